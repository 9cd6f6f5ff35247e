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
ja-itaiji (MIT) ships ~16,000 variant families, but they are broad: it puts 濱 with 頻, 澤 with
途, 齋 with 斎 and 崎 with 埼, because historical borrowings count as variants there. Folding a
whole family to one character would merge 濱田 with 頻田 and 崎山 with 埼山. So the fold keeps
only pairs that pass three tests:

1. *Mutual*: each character lists the other in its family (one-sided entries are dropped).
2. *Towards the standard form*: a character in JIS X 0208 level 1 (the everyday set, which
   contains the 常用 new forms) is never folded — two level-1 characters are two characters of
   modern use (崎/埼, 浜/頻, 沢/途). Only level-2, CP932-extension or non-JIS characters fold,
   and only onto a level-1 character.
3. *Unambiguous*: if a character has several level-1 candidates (濱: 浜 and 頻), the candidate
   whose own family lies wholly inside the character's family wins (浜's family {浜, 濵, 濱} is
   contained in 濱's; 頻's is not). If no candidate wins clearly the character stays itself, unless
   ``PREFERRED_FOLDS`` (a short, reviewed list of name characters such as 﨑→崎) says otherwise.

Characters in a ``CONFUSABLE_CLASSES`` class are excluded from automatic folding: 齋→斎 passes the
three tests, but registries keep 齋藤 and 斎藤 apart and families care, so that pair is fuzzy.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import jaconv
import numpy as np
import pandas as pd

# Reviewed exceptions for ambiguous families: (variant, standard form). Only name characters
# whose ja-itaiji family offers several standard forms belong here; keep it short and explained.
PREFERRED_FOLDS = {
    "﨑": "崎",  # たつさき: family also lists 埼/碕, which are different characters
    "嵜": "崎",  # 山 on top: the same character as 崎
    "㟢": "崎",
    "濱": "浜",
    "濵": "浜",
    "澤": "沢",
    "邊": "辺",
    "邉": "辺",
    "髙": "高",
    "圓": "円",
    "嶌": "島",
}

# Characters confused in practice but distinct in the registry: fuzzy agreement, never equality.
CONFUSABLE_CLASSES = [
    "齋齊斎斉亝斋齐",
    "崎埼碕",
    "島嶋",  # both level 1: 嶋 stays itself, but 嶋田/島田 deserve a look
]

_SPACE_RE = re.compile(r"[\s\u3000]+")
_KANA_LEGACY = str.maketrans({
    "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ", "ッ": "ツ", "ャ": "ヤ", "ュ": "ユ",
    "ョ": "ヨ", "ヮ": "ワ", "ヵ": "カ", "ヶ": "ケ", "ヴ": "ブ", "ヂ": "ジ", "ヅ": "ズ", "ヲ": "オ",
    "ヰ": "イ", "ヱ": "エ", "ー": "ウ", "－": "ウ", "-": "ウ",
})


def _jis_level(ch: str) -> int:
    """1 or 2 for JIS X 0208 kanji levels, 3 for CP932 extensions, 4 for anything else."""
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
    return 1 if 0x889F <= code <= 0x9872 else 2


@functools.lru_cache(maxsize=1)
def _families() -> dict[str, frozenset[str]]:
    from ja_itaiji import Itaiji

    return {k: frozenset(v) for k, v in Itaiji.dictionary.items()}


@functools.lru_cache(maxsize=1)
def variant_fold() -> dict[str, str]:
    """The variant → standard-form table (see the module docstring for the rules)."""
    fams = _families()
    confusable = set("".join(CONFUSABLE_CLASSES))
    table: dict[str, str] = {}
    for ch, fam in fams.items():
        if ch in confusable or _jis_level(ch) == 1:
            continue
        mutual = [x for x in fam if x != ch and ch in fams.get(x, ()) and _jis_level(x) == 1]
        if len(mutual) == 1:
            table[ch] = mutual[0]
        elif len(mutual) > 1:
            contained = [x for x in mutual if fams.get(x, frozenset()) <= fam]
            if len(contained) == 1:
                table[ch] = contained[0]
    for ch, rep in PREFERRED_FOLDS.items():
        if ch != rep:
            table[ch] = rep
    # NFKC may itself change a character (compatibility ideographs); fold those results too.
    return {unicodedata.normalize("NFKC", k): v for k, v in table.items()
            if unicodedata.normalize("NFKC", k) != v}


@functools.lru_cache(maxsize=1)
def _fold_translation() -> dict[int, str]:
    return str.maketrans(variant_fold())


def _clean(text: object) -> str:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    return _SPACE_RE.sub("", s)


def normalise_kanji(text: object) -> str:
    """Kanji name for equality: NFKC, no spaces, genuine variant forms folded."""
    return _clean(text).translate(_fold_translation())


def normalise_kana(text: object) -> str:
    """Katakana name: NFKC (half-width ｷｮｳｺ → キョウコ), hiragana → katakana, no spaces."""
    return jaconv.hira2kata(_clean(text))


def kana_key(text: object) -> str:
    """Kana for equality across legacy systems that lost small kana, ヂ/ジ, ヲ/オ, ー/ウ."""
    # Translating a small kana can free a combining mark (ｯﾞ → ツ゛): compose and fold again.
    once = normalise_kana(text).translate(_KANA_LEGACY)
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
    """Two (already folded) characters that are variants or confusables of each other."""
    if a == b:
        return True
    conf = _confusable_index()
    if a in conf and conf.get(b) == conf[a]:
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
