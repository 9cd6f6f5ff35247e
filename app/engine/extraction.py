"""Who needs a visit now (抽出), decided once: the list, the map, the staffing plan and the stored
run all call these pure functions, so the screens cannot disagree (issue 15, issue 19 part 2).

* **抽出** is set per target in the rule set's ``[extraction]`` table — the k children most in
  need (``method = "top_k"``, ``k`` sized to what the teams can visit in one cycle) or every
  child at or above a score (``method = "score_cut"``) — and always includes the urgent children.
  It is applied to the order a role may see (see :func:`need_order`): a nurse's 抽出 never
  rests on a flag she cannot see.
* **Urgent (至急)**: the mother answered EPDS 問10 (「自分自身を傷つけるという考えが浮かんだ」)
  with 1 or more within ``urgent_months`` of the run's as-of date. Urgent children are always
  extracted and always first.
* **Followed**: the nurse's latest record is anything but 未対応, or the health centre's
  assessment list says 済/中/継続 (and not 未).
* **Data date per source**: the newest 抽出日 delivered for that source.
* **Today**: the run's as-of date — never the clock of the machine showing the list.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

import numpy as np
import pandas as pd

METHODS = ("top_k", "score_cut")
# assessment フォロー状況 values meaning the centre is (or was) following the family
ASSESSMENT_FOLLOWED = ("済", "中", "継続")
NOT_FOLLOWED = "未対応"
# EPDS item 10 is the self-harm question; its position in the stored ``items`` list (1-based)
EPDS_SELF_HARM_ITEM = 10


class ExtractionError(ValueError):
    """An ``[extraction]`` table that cannot be used (message in Japanese)."""


@dataclass(frozen=True)
class ExtractionSpec:
    method: str = "top_k"
    k: int = 500                 # top_k: how many children the teams can visit in one cycle
    score_cut: float = 0.0       # score_cut: extracted when score >= this
    min_score: float = 0.0       # a child must score above this to be extracted (0: any flag)
    urgent_months: int = 36      # EPDS 問10 answers older than this are not urgent any more (the EPDS rules' window)
    capacity_note: str = ""      # why k is what it is, in the rule set author's words

    def describe(self) -> str:
        """The definition in one Japanese line, for the conditions panel and the map."""
        if self.method == "top_k":
            core = f"抽出 = 必要度の高い順に上位{self.k:,}人（スコア{self.min_score:g}より大）"
        else:
            core = f"抽出 = スコア{self.score_cut:g}以上"
        return core + f"＋至急（EPDS問10が1点以上、{self.urgent_months}か月以内）"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def extraction_spec(ruleset_text: str | None) -> ExtractionSpec:
    """The ``[extraction]`` table of a rule set's TOML (defaults where it has none)."""
    data = tomllib.loads(ruleset_text or "").get("extraction", {}) if ruleset_text else {}
    method = data.get("method", "top_k")
    if method not in METHODS:
        raise ExtractionError(f"[extraction] method は {' / '.join(METHODS)} のどちらかです（{method!r}）")
    spec = ExtractionSpec(method=method, k=int(data.get("k", ExtractionSpec.k)),
                          score_cut=float(data.get("score_cut", 0.0)), min_score=float(data.get("min_score", 0.0)),
                          urgent_months=int(data.get("urgent_months", ExtractionSpec.urgent_months)),
                          capacity_note=str(data.get("capacity_note", "")))
    if spec.k < 0 or spec.urgent_months < 0:
        raise ExtractionError("[extraction] k と urgent_months は0以上です")
    return spec


def spec_from_dict(value: dict | None) -> ExtractionSpec:
    """The spec as stored with a run (JSON); defaults for older runs."""
    known = set(ExtractionSpec.__dataclass_fields__)
    return ExtractionSpec(**{k: v for k, v in (value or {}).items() if k in known})


def need_order(score, urgent, flag_count, person_id) -> np.ndarray:
    """Rank (1 = most in need): urgent first, then score, then flag count, then research ID."""
    score = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf)
    order = np.lexsort((np.asarray(person_id, dtype=str), -np.asarray(flag_count, dtype=float), -score,
                        ~np.asarray(urgent, dtype=bool)))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    return rank


def extract(score, urgent, rank, spec: ExtractionSpec) -> np.ndarray:
    """Boolean 抽出 per child of one run, under one order (``rank`` from :func:`need_order`)."""
    score = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf)
    urgent = np.asarray(urgent, dtype=bool)
    if spec.method == "top_k":
        # the k are counted among children with a real need: urgent ones take places first
        chosen = (np.asarray(rank) <= spec.k) & ((score > spec.min_score) | urgent)
    else:
        chosen = score >= spec.score_cut
    return chosen | urgent


def epds_self_harm(attrs: pd.Series) -> pd.Series:
    """EPDS 問10 from the ``items`` list stored in an EPDS event's attrs (NaN when not answered)."""
    pattern = (r'"items"\s*:\s*\[' + r"(?:\s*[^,\]]*,)" + "{" + str(EPDS_SELF_HARM_ITEM - 1) + "}"
               + r"\s*(-?[\d.]+)")
    return pd.to_numeric(attrs.fillna("").astype(str).str.extract(pattern, expand=False), errors="coerce")


def urgent_children(epds: pd.DataFrame, n: int, as_of, months: int) -> tuple[np.ndarray, np.ndarray]:
    """(urgent, date of the newest questionnaire with 問10 ≥ 1) per child position.

    ``epds``: the mothers' EPDS events linked to each child (``_pos``, ``date``, ``attrs``).
    """
    urgent = np.zeros(n, dtype=bool)
    when = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if len(epds) == 0:
        return urgent, when
    at = pd.Timestamp(as_of).normalize()
    dates = pd.to_datetime(epds["date"])
    recent = (dates <= at) & (dates > at - pd.DateOffset(months=months))
    hit = epds[(epds_self_harm(epds["attrs"]) >= 1).to_numpy() & recent.to_numpy()]
    if len(hit):
        newest = pd.to_datetime(hit["date"]).groupby(hit["_pos"].to_numpy()).max()
        urgent[newest.index.to_numpy()] = True
        when[newest.index.to_numpy()] = newest.to_numpy(dtype="datetime64[ns]")
    return urgent, when


def months_ago(when, today) -> str:
    """「3か月前」 for a date relative to the run's as-of date ("" when unknown)."""
    if when is None or pd.isna(when):
        return ""
    w, t = pd.Timestamp(when), pd.Timestamp(today)
    months = (t.year - w.year) * 12 + (t.month - w.month) - (1 if t.day < w.day else 0)
    return f"{(t - w).days}日前" if months < 1 else f"{months}か月前"


def is_followed(followup_status, assessment_status) -> np.ndarray:
    """Followed per child from the latest nurse's record and the latest assessment フォロー状況.

    Both are text arrays ("" where there is none). A nurse's record other than 未対応 (and not
    starting with 未) counts; an assessment counts when it says 済/中/継続 and not 未.
    """
    fu = pd.Series(np.asarray(followup_status, dtype=object)).fillna("").astype(str)
    asm = pd.Series(np.asarray(assessment_status, dtype=object)).fillna("").astype(str)
    by_nurse = fu.ne("") & ~fu.str.startswith("未")
    marker = "|".join(map(re.escape, ASSESSMENT_FOLLOWED))
    by_assessment = asm.str.contains(marker) & ~asm.str.contains("未")
    return (by_nurse | by_assessment).to_numpy(dtype=bool)


def source_data_dates(sources: pd.DataFrame) -> dict[str, str]:
    """Per source, the newest 抽出日 delivered (``sources``: source, as_of) as YYYY-MM-DD."""
    newest: dict[str, str] = {}
    if sources is None or sources.empty:
        return newest
    # a handful of rows (one per delivered file): plain Python is faster than a pandas pass here
    for source, value in zip(sources["source"], sources["as_of"]):
        day = "" if value is None or value != value else str(value)[:10]
        if len(day) == 10 and day > newest.get(source, ""):
            newest[source] = day
    return newest


def run_today(run_as_of, source_dates: dict[str, str] | None = None) -> pd.Timestamp:
    """"Today" for everything shown from a run: its as-of date; without a run, the newest
    resident-registry date, else the newest of any source. None when there is no data at all."""
    if run_as_of:
        return pd.Timestamp(str(run_as_of)[:10])
    dates = source_dates or {}
    value = dates.get("jumin") or max((v for v in dates.values() if v), default=None)
    return pd.Timestamp(str(value)[:10]) if value else None
