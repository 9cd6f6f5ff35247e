"""Extract files in the canonical layouts of DATA_FORMATS.md, written from the clean world
with each source's encoding, date style and mess; every data record is logged for truth/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine import catalogue
from app.engine.synth import mess

CHUNK_ROWS = 250_000
PERSON_COLS = ["宛名番号", "世帯番号", "氏名", "氏名カナ", "生年月日", "性別"]


@dataclass(frozen=True)
class SourceStyle:
    """How one department's system writes its extract (file name and データ種別: the catalogue)."""
    source: str
    department: str
    encoding: str  # cp932 | utf-8 | utf-8-sig
    date_style: str
    name_sep: str  # "　", " " or ""
    half_kana: bool = False
    sex_style: str = "digit"
    variant_rate: float = 0.5  # share of variant-kanji names written in the common form
    typo_rate: float = 0.0
    dup_rate: float = 0.0
    lag_days: int = 0  # 抽出日 = as-of − lag

    @property
    def file(self) -> str:
        return catalogue.sources()[self.source].layout["file"]

    @property
    def kind(self) -> str:
        return catalogue.sources()[self.source].kind


STYLES = {s.source: s for s in [
    SourceStyle("jumin", "市民課", "cp932", "slash", "　", variant_rate=0.0, dup_rate=0.001),
    SourceStyle("shussei", "こども健康課", "utf-8-sig", "iso", "　", variant_rate=0.3),
    SourceStyle("ninpu", "こども健康課", "cp932", "wareki", " ", variant_rate=0.4, lag_days=7),
    SourceStyle("kenshin", "こども健康課", "cp932", "compact", " ", variant_rate=0.5,
                typo_rate=0.01, dup_rate=0.003, lag_days=14),
    SourceStyle("shika", "こども健康課", "utf-8", "wareki_short", "  ", variant_rate=0.5,
                sex_style="kanji", lag_days=14),
    SourceStyle("yobo", "保健所健康づくり課", "cp932", "iso", "", half_kana=True,
                variant_rate=0.7, typo_rate=0.01, dup_rate=0.002, lag_days=30),
    SourceStyle("epds", "こども健康課", "utf-8-sig", "slash0", "　", variant_rate=0.5, lag_days=14),
    SourceStyle("hogosha_kenshin", "健康づくり課", "cp932", "wareki", " ", variant_rate=0.5,
                lag_days=60),
    SourceStyle("jido_fuyo", "こども給付課", "utf-8", "compact", "　", half_kana=True,
                variant_rate=0.3, lag_days=30),
    SourceStyle("seiho", "生活福祉課", "cp932", "wareki_short", "　", variant_rate=0.2, lag_days=30),
    SourceStyle("shogai", "障害福祉課", "utf-8-sig", "iso", " ", variant_rate=0.4, lag_days=45),
    SourceStyle("yoho", "保育運営課", "utf-8", "slash", "　", sex_style="kanji", variant_rate=0.5,
                dup_rate=0.002, lag_days=20),
    SourceStyle("dv", "こども家庭支援課", "cp932", "iso", "　", variant_rate=0.2, lag_days=10),
    SourceStyle("soudan", "こども家庭支援課", "utf-8-sig", "iso", " ", variant_rate=0.6, lag_days=3),
    SourceStyle("assessment", "健康福祉センター", "cp932", "slash", "　", variant_rate=0.4,
                lag_days=10),
    SourceStyle("jisou", "児童相談所", "utf-8-sig", "wareki", "　", variant_rate=0.4, lag_days=30),
    SourceStyle("shogaiji_tsusho", "障害福祉課", "cp932", "wareki", "　", variant_rate=0.4, lag_days=30),
]}


@dataclass
class Truth:
    records: list = field(default_factory=list)  # frames of file, line, true_person_id
    malformed: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    typo_pids: set = field(default_factory=set)


def serialize(frame: pd.DataFrame, header: bool = True, first_line: int = 2) -> tuple[str, np.ndarray]:
    """CSV text with CRLF line ends and the physical start line of each record (header = 1;
    ``first_line`` is the line of the first record when writing a later chunk).
    Fields with a comma, quote or line break are quoted (RFC 4180, as QUOTE_MINIMAL)."""
    frame = frame.reset_index(drop=True)
    nl = np.zeros(len(frame), dtype=np.int64)
    cols = []
    for c in frame.columns:
        vals = frame[c].astype(str).tolist()
        joined = "".join(vals)  # one C-level pass finds the rare columns that need quoting
        if any(ch in joined for ch in ',"\r\n'):
            col = pd.Series(vals, dtype=object)
            need = col.str.contains('[",\r\n]', regex=True)
            col = col.where(~need, '"' + col.str.replace('"', '""', regex=False) + '"')
            nl += col.str.count("\n").to_numpy()
            vals = col.tolist()
        cols.append(vals)
    lines = list(map(",".join, zip(*cols)))
    start = first_line + np.concatenate([[0], np.cumsum(nl + 1)[:-1]]) if len(frame) else np.zeros(0, int)
    body = "\r\n".join(lines) + "\r\n" if lines else ""
    return (",".join(frame.columns) + "\r\n" if header else "") + body, start


def person_columns(world, pids: np.ndarray, style: SourceStyle, rng, truth: Truth, *,
                   atena: np.ndarray | None = None, with_setai: bool = True) -> dict:
    """The person columns for the given true persons in the source's style.

    A department's system holds one spelling per person, so the mess (variant kanji, spaces,
    kana width and typos) is drawn once per distinct person and repeated on all their rows."""
    pids = np.asarray(pids)
    uniq, inv = np.unique(pids, return_inverse=True)
    inv = inv.reshape(-1)
    p = world.persons.iloc[uniq]  # pid is the row position
    fam = mess.variant_forms(p["family"].reset_index(drop=True), style.variant_rate, rng)
    giv = p["given"].reset_index(drop=True)
    name = mess.join_name(fam, giv, style.name_sep, rng)
    kana_sep = " " if style.name_sep == "" else (" " if style.half_kana else "　")
    k = p["family_kana"].reset_index(drop=True) + kana_sep + p["given_kana"].reset_index(drop=True)
    if style.typo_rate:
        k, hit = mess.kana_typos(k, style.typo_rate, rng)
        truth.typo_pids.update(uniq[hit].tolist())
    k = mess.kana(k, style.half_kana)
    hh = world.households.set_index("hh")
    setai = hh["setai"].reindex(p["hh"]).to_numpy()
    cols = {"宛名番号": atena if atena is not None else p["atena"].to_numpy()[inv],
            "世帯番号": setai[inv], "氏名": name.to_numpy()[inv], "氏名カナ": k.to_numpy()[inv],
            "生年月日": mess.format_dates(p["birth"].to_numpy(), style.date_style)[inv],
            "性別": mess.sex_codes(p["sex"].to_numpy(), style.sex_style)[inv]}
    if not with_setai:
        cols.pop("世帯番号")
    return cols


def atena_at(world, pids: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The 宛名番号 a person had on a date (the new one after an out-and-back return)."""
    pids = np.asarray(pids)
    uniq, inv = np.unique(pids, return_inverse=True)
    inv = inv.reshape(-1)
    p = world.persons.iloc[uniq]
    a1, a2 = p["atena"].to_numpy()[inv], p["atena2"].to_numpy()[inv]
    new = (a2 != "") & (np.asarray(days) >= p["back_date"].to_numpy()[inv])
    return np.where(new, a2, a1)


def emit(out_dir: Path, style: SourceStyle, frame: pd.DataFrame, pids: np.ndarray, rng, truth: Truth,
         *, date_cols: list[str], required: list[str], malformed_rate: float = 0.002) -> int:
    """Apply malformed rows and duplicates, write the file, log every record for truth/."""
    frame = frame.reset_index(drop=True).astype(str)
    pids = np.asarray(pids)
    n = len(frame)
    problems = np.full(n, "", dtype=object)
    if n:
        n_bad = int(rng.binomial(n, malformed_rate)) if n > 50 else 0
        bad = np.sort(rng.choice(n, size=min(n_bad, n), replace=False))
        for i in bad:
            if date_cols and rng.random() < 0.55:
                col = date_cols[int(rng.integers(0, len(date_cols)))]
                frame.iat[i, frame.columns.get_loc(col)] = mess.impossible_date(style.date_style, rng)
                problems[i] = f"impossible date in {col}"
            else:
                col = required[int(rng.integers(0, len(required)))]
                frame.iat[i, frame.columns.get_loc(col)] = ""
                problems[i] = f"missing required {col}"
    dup_src = np.zeros(0, int)
    if style.dup_rate and n > 50:
        k = max(1, int(round(n * style.dup_rate)))
        dup_src = np.sort(rng.choice(np.flatnonzero(problems == ""), size=k, replace=False))
    full = pd.concat([frame, frame.iloc[dup_src]], ignore_index=True)
    del frame
    all_pids = np.concatenate([pids, pids[dup_src]])
    # Written in chunks so a 200,000-child city never holds a whole big extract as text.
    starts, line = [], 2
    with open(out_dir / style.file, "wb") as fh:
        for lo in range(0, max(len(full), 1), CHUNK_ROWS):
            text, st = serialize(full.iloc[lo:lo + CHUNK_ROWS], header=lo == 0, first_line=line)
            # The BOM of UTF-8-BOM sources goes once, at the start of the file.
            enc = style.encoding if lo == 0 or style.encoding != "utf-8-sig" else "utf-8"
            fh.write(text.encode(enc))
            if len(st):
                line = int(st[-1]) + text.count("\n", text.rfind("\r\n", 0, len(text) - 2) + 2)
            starts.append(st)
    start = np.concatenate(starts)
    truth.records.append(pd.DataFrame({"file": style.file, "line": start, "true_person_id": all_pids}))
    badm = problems != ""
    if badm.any():
        truth.malformed.append(pd.DataFrame({"file": style.file, "line": start[:n][badm],
                                             "problem": problems[badm]}))
    if len(dup_src):
        truth.duplicates.append(pd.DataFrame({"file": style.file, "line": start[n:],
                                              "duplicate_of_line": start[dup_src]}))
    return len(full)
