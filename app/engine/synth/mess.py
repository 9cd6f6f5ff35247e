"""The mess of real extracts, applied per source: variant kanji, kana width and typos, spaces,
date styles, full-width digits, deliberately malformed rows and duplicated rows.

Every perturbation that could mislead a test is recorded (kana typos in person notes, malformed
rows and duplicates in truth/).
"""

from __future__ import annotations

import re

import jaconv
import numpy as np
import pandas as pd

from app.engine.synth import names as nm

ERAS = [  # (first day as int days since 1970, letter, kanji, UKE code, offset year)
    (np.datetime64("2019-05-01").astype(np.int64), "R", "令和", "5", 2018),
    (np.datetime64("1989-01-08").astype(np.int64), "H", "平成", "4", 1988),
    (np.datetime64("1926-12-25").astype(np.int64), "S", "昭和", "3", 1925),
]
FW_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(int) + 1970
    m = d.astype("datetime64[M]").astype(int) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(int) + 1
    return y, m, dd


def _era(days: np.ndarray):
    days = np.asarray(days, dtype=np.int64)
    idx = np.select([days >= ERAS[0][0], days >= ERAS[1][0]], [0, 1], 2)
    letter = np.array([e[1] for e in ERAS])[idx]
    kanji = np.array([e[2] for e in ERAS])[idx]
    code = np.array([e[3] for e in ERAS])[idx]
    off = np.array([e[4] for e in ERAS])[idx]
    return letter, kanji, code, off


def _s(a) -> pd.Series:
    return pd.Series(np.asarray(a)).astype(str)


def format_dates(days, style: str) -> np.ndarray:
    """Dates (int days since 1970, exactly -1 = empty) in one of the extract styles: iso, slash,
    compact, wareki (令和5年4月5日), wareki_short (R5.4.5), uke_wareki (GYYMMDD), ym_wareki
    (R5.04), ym_iso. Each distinct day is formatted once (extracts repeat days a lot)."""
    days = np.asarray(days, dtype=np.int64)
    if len(days) == 0:
        return np.zeros(0, dtype=object)
    uniq, inv = np.unique(days, return_inverse=True)
    return _format_unique(uniq, style)[inv.reshape(-1)]


def _format_unique(days, style: str) -> np.ndarray:
    days = np.asarray(days, dtype=np.int64)
    # -1 marks "no date"; other negative days are real dates before 1970 (grandparents).
    empty = days == -1
    safe = np.where(empty, 0, days)
    y, m, d = ymd(safe)
    if style == "iso":
        out = _s(y) + "-" + _s(m).str.zfill(2) + "-" + _s(d).str.zfill(2)
    elif style == "slash":
        out = _s(y) + "/" + _s(m) + "/" + _s(d)
    elif style == "slash0":
        out = _s(y) + "/" + _s(m).str.zfill(2) + "/" + _s(d).str.zfill(2)
    elif style == "compact":
        out = _s(y) + _s(m).str.zfill(2) + _s(d).str.zfill(2)
    elif style == "ym_iso":
        out = _s(y) + "-" + _s(m).str.zfill(2)
    else:
        letter, kanji, code, off = _era(safe)
        ey = y - off
        if style == "wareki":
            eys = _s(ey).where(ey != 1, "元")
            out = _s(kanji) + eys + "年" + _s(m) + "月" + _s(d) + "日"
        elif style == "wareki_short":
            out = _s(letter) + _s(ey) + "." + _s(m) + "." + _s(d)
        elif style == "ym_wareki":
            out = _s(letter) + _s(ey) + "." + _s(m).str.zfill(2)
        elif style == "uke_wareki":
            out = _s(code) + _s(ey).str.zfill(2) + _s(m).str.zfill(2) + _s(d).str.zfill(2)
        elif style == "uke_wareki_ym":
            out = _s(code) + _s(ey).str.zfill(2) + _s(m).str.zfill(2)
        else:
            raise ValueError(style)
    return np.where(empty, "", out.to_numpy())


def impossible_date(style: str, rng) -> str:
    """A date in the source's style that cannot exist (Feb 30th, month 13)."""
    y = int(rng.integers(2020, 2025))
    return {"iso": f"{y}-02-30", "slash": f"{y}/13/1", "slash0": f"{y}/02/31", "compact": f"{y}0231",
            "wareki": "令和5年13月1日", "wareki_short": "R5.2.30", "ym_wareki": "R5.13",
            "ym_iso": f"{y}-13"}.get(style, "9999-99-99")


def variant_forms(kanji: pd.Series, rate: float, rng) -> pd.Series:
    """Write registry variant kanji (髙, 﨑, 邊 …) in a common form in a share of rows."""
    has = kanji.str.contains("[" + "".join(nm.VARIANTS) + "]", regex=True).to_numpy()
    hit = has & (rng.random(len(kanji)) < rate)
    out = kanji.to_numpy().copy()
    pick = rng.integers(0, 2, len(kanji))
    for i in np.flatnonzero(hit):
        s = out[i]
        for ch, alts in nm.VARIANTS.items():
            if ch in s:
                s = s.replace(ch, alts[pick[i] % len(alts)])
        out[i] = s
    return pd.Series(out, index=kanji.index)


def join_name(family: pd.Series, given: pd.Series, sep: str, rng, noise: float = 0.01) -> pd.Series:
    """Family and given name with the source's separator; a few rows doubled or missing."""
    u = rng.random(len(family))
    seps = np.where(u < noise / 2, sep * 2 if sep else " ", np.where(u < noise, "", sep))
    return family.str.cat([pd.Series(seps, index=family.index), given])


def kana(text: pd.Series, half: bool) -> pd.Series:
    """Full-width katakana, or half-width (legacy systems), mapped once per distinct value."""
    if not half:
        return text
    uniq = {v: jaconv.z2h(v, kana=True, ascii=False, digit=False) for v in pd.unique(text)}
    return text.map(uniq)


def kana_typos(text: pd.Series, rate: float, rng) -> tuple[pd.Series, np.ndarray]:
    """Lose small kana / long vowels in a share of rows; returns the text and the hit mask."""
    pat = re.compile("[" + "".join(nm.KANA_TYPOS) + "]")
    can = text.str.contains(pat).to_numpy()
    hit = can & (rng.random(len(text)) < rate)
    out = text.to_numpy().copy()
    for i in np.flatnonzero(hit):
        out[i] = pat.sub(lambda m: nm.KANA_TYPOS[m.group(0)], out[i], count=1)
    return pd.Series(out, index=text.index), hit


def fullwidth_digits(col: np.ndarray, rate: float, rng) -> np.ndarray:
    """Full-width digits in a few hand-typed date cells."""
    hit = rng.random(len(col)) < rate
    out = np.asarray(col, dtype=object).copy()
    for i in np.flatnonzero(hit):
        out[i] = str(out[i]).translate(FW_DIGITS)
    return out


def sex_codes(sex: np.ndarray, style: str) -> np.ndarray:
    if style == "kanji":
        return np.where(sex == "M", "男", np.where(sex == "F", "女", ""))
    return np.where(sex == "M", "1", np.where(sex == "F", "2", ""))
