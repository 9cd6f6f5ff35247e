"""Name normalisation for linkage (名寄せ).

Two levels, deliberately kept apart:

* **Equality** (``normalise_kanji``, ``kana_key``): values that differ only in ways that carry no
  identity — NFKC width, spaces between family and given name, hiragana/katakana, legacy kana
  losses (small kana, ヂ/ジ …) and *genuine* old/new/variant forms of one character
  (髙→高, 﨑→崎, 邊/邉→辺, 濱→浜, 澤→沢, 德→徳, 瀨→瀬) — become the same string, so the
  deterministic 5-item / 4-item passes can join on them.
* **Fuzzy agreement** (``kanji_agreement``): characters people confuse but which are different
  characters in the registry (齋/齊/斎/斉, 崎/埼/碕) only *agree fuzzily*. The probabilistic
  scorer gives such a pair a partial weight and sends it to a human; it is never an automatic merge.

How the variant fold is built (``variant_fold``), and why:
the fold comes from a published map, the **MJ縮退マップ** (MJ character-information shrink map of
the 文字情報技術促進協議会 / IPA, CC BY-SA 2.1 JP), as shipped in ``jntajis-python`` (BSD-3-Clause
code; ``jntajis.mj_shrink_candidates``). Of its four schemes only two say "the same character":

* JIS包摂規準・UCS統合規則 (glyph variants unified by JIS X 0213 / UCS: 髙→高), and
* 法務省戸籍法関連通達・通知 (the Ministry of Justice's 戸籍 notices: 旧字 → 新字, 濱→浜, 齋→斎).

A character folds only *towards the standard form*: onto the single candidate of the most
standard JIS X 0208 level (level 1 before level 2), and only when that level is strictly more
standard than the character's own. So a level-1 character never folds (嶋/島, 峯/峰, 龍/竜 are two
characters of modern use, and 徳 must not fold back to 德), and two candidates of the same level
(㘬: 仏, 均) fold nothing. The other two schemes (法務省告示582号別表第四 誤字俗字→正字, and
読み・字形による類推, inference by reading and shape) are evidence only: at most *fuzzy*. So are
ja-itaiji (MIT) variant families, which are broad (they put 暉 with 輝, 籐 with 藤, 栞 with 刊),
and the ``CONFUSABLE_CLASSES`` (斎/斉, 崎/埼/碕, 島/嶋): they agree fuzzily in the scorer and go to
a human, never into an automatic merge.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import jaconv
import numpy as np
import pandas as pd

# Characters confused in practice but distinct in the registry: fuzzy agreement, never equality.
# (Old forms such as 齋/齊 fold to 斎/斉 first, so the classes list standard forms only.)
CONFUSABLE_CLASSES = [
    "斎斉",
    "崎埼碕",
    "島嶋",  # both level 1: 嶋 stays itself, but 嶋田/島田 deserve a look
]

_SPACE_RE = re.compile(r"[\s\u3000]+")
# Ideographic variation selectors (IVS, U+E0100–E01EF) and standardised variation selectors pick
# a glyph of one character (葛󠄀 / 葛): the character is the same, so they are dropped.
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_KANA_LEGACY = str.maketrans({
    "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ", "ッ": "ツ", "ャ": "ヤ", "ュ": "ユ",
    "ョ": "ヨ", "ヮ": "ワ", "ヵ": "カ", "ヶ": "ケ", "ヴ": "ブ", "ヂ": "ジ", "ヅ": "ズ", "ヲ": "オ",
    "ヰ": "イ", "ヱ": "エ", "ー": "ウ", "－": "ウ", "-": "ウ",
})


def _jis_level(ch: str) -> int:
    """1 or 2 for JIS X 0208 kanji levels, 3 for CP932 extensions, 4 for anything else
    (0 for ASCII, kana and symbols)."""
    try:
        raw = ch.encode("shift_jis")
    except UnicodeEncodeError:
        try:
            ch.encode("cp932")
            return 3
        except UnicodeEncodeError:
            return 4
    if len(raw) < 2:
        return 0
    code = int.from_bytes(raw, "big")
    if 0x889F <= code <= 0x9872:
        return 1
    return 2 if 0x989F <= code <= 0xEAA4 else 0


@functools.lru_cache(maxsize=1)
def _families() -> dict[str, frozenset[str]]:
    from ja_itaiji import Itaiji

    return {k: frozenset(v) for k, v in Itaiji.dictionary.items()}


# Unified ideographs, extension A, compatibility ideographs and the supplementary planes (B–F):
# every code point the MJ map can have an entry for.
_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2FA20))


def _mj_combo(*names: str) -> int:
    import jntajis

    combo = 0
    for name in names:
        combo |= int(getattr(jntajis.MJShrinkSchemeCombo, name))
    return combo


# The two schemes of the MJ縮退マップ that name the same character (see the module docstring).
SAME_CHARACTER_SCHEMES = ("JIS_INCORPORATION_UCS_UNIFICATION_RULE", "MOJ_FAMILY_REGISTER_ACT_RELATED_NOTICE")
EVIDENCE_SCHEMES = ("INFERENCE_BY_READING_AND_GLYPH", "MOJ_NOTICE_582")


def standard_form(ch: str, candidates: list[str]) -> str | None:
    """The standard form ``ch`` folds to among its MJ candidates, or None (see the docstring)."""
    own = _jis_level(ch)
    cands = {unicodedata.normalize("NFKC", c) for c in candidates} - {ch}
    cands = {c for c in cands if _jis_level(c) in (1, 2)}
    if not cands:
        return None
    best = min(_jis_level(c) for c in cands)
    top = [c for c in cands if _jis_level(c) == best]
    # Strictly more standard than the character itself: a level-1 character never folds.
    if len(top) != 1 or best >= own:
        return None
    return top[0]


# The fold as build_variant_fold() computes it, shipped: building it walks ~100,000 code points
# through jntajis (0.1 s of every import, measured at 13,913 children); reading this file takes
# ~5 ms. tests/test_linkage_names.py checks the file equals a fresh build from the installed
# jntajis; tools/mj_variant_fold.py writes it again (after a jntajis upgrade).
VARIANT_FOLD_FILE = ("reference", "mj_variant_fold.tsv")


@functools.lru_cache(maxsize=1)
def variant_fold() -> dict[str, str]:
    """The old form → standard form table (shipped; see VARIANT_FOLD_FILE and the docstring)."""
    from app.resource_files import resource_path

    text = resource_path(*VARIANT_FOLD_FILE).read_text("utf-8")
    return dict(line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))


def build_variant_fold() -> dict[str, str]:
    """The old form → standard form table from the MJ縮退マップ (see the module docstring)."""
    from jntajis import mj_shrink_candidates

    combo = _mj_combo(*SAME_CHARACTER_SCHEMES)
    table: dict[str, str] = {}
    for lo, hi in _CJK_RANGES:
        for cp in range(lo, hi):
            ch = chr(cp)
            # Names are NFKC-normalised before the fold: a compatibility ideograph never reaches it.
            if unicodedata.normalize("NFKC", ch) != ch:
                continue
            cands = mj_shrink_candidates(ch, combo)
            if len(cands) > 1 or (cands and cands[0] != ch):
                rep = standard_form(ch, cands)
                if rep is not None:
                    table[ch] = rep
    # A level-2 target may itself fold onto level 1: resolve chains so one pass is idempotent.
    for ch, rep in table.items():
        while rep in table and table[rep] != rep:
            rep = table[rep]
        table[ch] = rep
    return table


@functools.lru_cache(maxsize=4096)
def _mj_related(ch: str) -> frozenset[str]:
    """Every character the MJ縮退マップ relates to ``ch`` under any of its four schemes."""
    from jntajis import mj_shrink_candidates

    combo = _mj_combo(*SAME_CHARACTER_SCHEMES, *EVIDENCE_SCHEMES)
    return frozenset(unicodedata.normalize("NFKC", c) for c in mj_shrink_candidates(ch, combo)) - {ch}


@functools.lru_cache(maxsize=1)
def _fold_translation() -> dict[int, str]:
    return str.maketrans(variant_fold())


def _clean(text: object) -> str:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", _VARIATION_SELECTORS.sub("", str(text)))
    return _SPACE_RE.sub("", s)


def normalise_kanji(text: object) -> str:
    """Kanji name for equality: NFKC, no spaces, genuine variant forms folded."""
    return _clean(text).translate(_fold_translation())


def normalise_kana(text: object) -> str:
    """Katakana name: NFKC (half-width ｷｮｳｺ → キョウコ), hiragana → katakana, no spaces."""
    return jaconv.hira2kata(_clean(text))


def kana_key(text: object) -> str:
    """Kana for equality across legacy systems that lost small kana, ヂ/ジ, ヲ/オ, ー/ウ."""
    return kana_key_of_normalised(normalise_kana(text))


def kana_key_of_normalised(kana: str) -> str:
    """``kana_key`` of a value already through ``normalise_kana`` (linkage has both for each
    distinct kana and so cleans it once)."""
    # Translating a small kana can free a combining mark (ｯﾞ → ツ゛): compose and fold again.
    once = kana.translate(_KANA_LEGACY)
    return unicodedata.normalize("NFC", once).translate(_KANA_LEGACY)


def split_name(text: object) -> tuple[str, str]:
    """(family, given) when a half- or full-width space separates them, else (whole, "")."""
    if text is None:
        return "", ""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    parts = _SPACE_RE.split(s, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (s, "")


def _series_map(values: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` once per distinct value (names repeat a lot: households, many rows)."""
    values = values.fillna("").astype(str)
    codes, uniq = pd.factorize(values)
    mapped = np.array([fn(u) for u in uniq], dtype=object)
    return pd.Series(mapped[codes] if len(uniq) else np.array([], dtype=object), index=values.index)


def normalise_kanji_series(values: pd.Series) -> pd.Series:
    return _series_map(values, normalise_kanji)


def normalise_kana_series(values: pd.Series) -> pd.Series:
    return _series_map(values, normalise_kana)


def kana_key_series(values: pd.Series) -> pd.Series:
    return _series_map(values, kana_key)


@functools.lru_cache(maxsize=1)
def _confusable_index() -> dict[str, int]:
    return {ch: i for i, cls in enumerate(CONFUSABLE_CLASSES) for ch in cls}


def chars_agree_fuzzily(a: str, b: str) -> bool:
    """Two (already folded) characters that are variants or confusables of each other.

    Evidence, not identity: any scheme of the MJ縮退マップ relating them (either way, or both to a
    common form), a mutual ja-itaiji family, or a confusable class.
    """
    if a == b:
        return True
    conf = _confusable_index()
    if a in conf and conf.get(b) == conf[a]:
        return True
    ra, rb = _mj_related(a), _mj_related(b)
    if b in ra or a in rb or (ra & rb):
        return True
    fams = _families()
    return b in fams.get(a, ()) and a in fams.get(b, ())


def kanji_agreement(a: str, b: str) -> str:
    """Compare two normalised kanji names: ``exact``, ``fuzzy`` or ``different``.

    ``fuzzy``: same length and every differing character is a mutual variant or a confusable
    (齋藤/斎藤, 崎山/埼山) — a human should look; never treated as the same name.
    """
    if a == b:
        return "exact" if a else "different"
    if not a or not b or len(a) != len(b):
        return "different"
    diffs = [(x, y) for x, y in zip(a, b) if x != y]
    if all(chars_agree_fuzzily(x, y) for x, y in diffs):
        return "fuzzy"
    return "different"


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance (capped at ``limit``) for short strings such as kana names."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
        if min(prev) >= limit:
            return limit
    return min(prev[-1], limit)
