"""A Japanese font for Qt's PDF writer whose text layer is the text that was drawn.

Why this exists: Qt's PDF writer (``QFontSubset::getReverseMap``) builds each embedded font's
ToUnicode table by walking the font's cmap from U+0000 upwards and keeping the *first* code
point found for every glyph. Japanese fonts (Noto Sans CJK, Meiryo, Yu Gothic) map the Kangxi
radicals U+2F00–U+2FD5 and the CJK radicals supplement to the same glyphs as the ideographs
(⼤ U+2F24 and 大 U+5927 are one glyph), so 「大津」 came out of ``pdftotext``, search and copy
as 「⼤津」; likewise ・ came out as U+2027 and a space as a TAB. Second, HarfBuzz applies the
font's ``locl`` feature, which swaps digits next to Japanese for glyphs no cmap entry reaches, and
Qt then writes no text for them at all (a research ID vanished from the text layer).

The fix keeps Qt's writer and gives it a font it cannot misread: the same installed font, read
through ``QRawFont`` (so it works with whatever Japanese font the terminal has, on any OS), with
the cmap entries removed that would shadow the real character (a radical or control code point
sharing a glyph with a character that is not one), registered under its own family name for
printing only; and ``locl`` is switched off on that font. Built once per process (~1 s for Noto
Sans CJK, 16 MB in memory), never written to disk.
"""

from __future__ import annotations

import io
import struct
import unicodedata

from PySide6.QtGui import QFont, QFontDatabase, QRawFont

from app.views.theme import JAPANESE_FAMILIES

PRINT_FAMILY = "Mimamori Print JP"
# Tables Qt's font engines and its PDF subsetter read; anything else (DSIG, …) is not needed.
_TABLES = ("BASE", "CFF ", "CFF2", "GDEF", "GPOS", "GSUB", "OS/2", "VORG", "cmap", "cvt ", "fpgm", "gasp",
           "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post", "prep", "vhea", "vmtx", "kern")
_family: str | None = None


def _is_text_character(cp: int) -> bool:
    """A code point that Japanese text uses for itself (kana, ideographs, full-width forms)."""
    return (0x3000 <= cp <= 0x30FF or 0x3400 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF
            or 0xFF00 <= cp <= 0xFFEF or 0x20000 <= cp <= 0x3FFFF)


def _shadows(cp: int, others: list[int]) -> bool:
    """Whether ``cp`` would hide a better code point of the same glyph in Qt's lowest-first map."""
    if 0x2E80 <= cp <= 0x2FDF or unicodedata.category(chr(cp)) == "Cc":
        return True
    return not _is_text_character(cp) and any(_is_text_character(o) for o in others)


def shadowing_code_points(best_cmap: dict[int, str]) -> set[int]:
    """Code points to drop so that, for every glyph, the lowest remaining one is the right one.

    Only code points *below* the glyph's lowest good code point are dropped: higher ones never win
    in Qt's map, and keeping them keeps their rendering (a compatibility ideograph still draws)."""
    by_glyph: dict[str, list[int]] = {}
    for cp, glyph in best_cmap.items():
        by_glyph.setdefault(glyph, []).append(cp)
    drop: set[int] = set()
    for cps in by_glyph.values():
        if len(cps) < 2:
            continue
        good = [c for c in cps if not _shadows(c, [o for o in cps if o != c])]
        if good:
            lowest = min(good)
            drop.update(c for c in cps if c < lowest)
    return drop


def cleaned_font_data(raw: QRawFont, family: str = PRINT_FAMILY) -> bytes:
    """The font behind ``raw`` as an sfnt file in memory, without shadowing cmap entries and
    renamed to ``family``. Outline tables are copied byte for byte (fontTools parses only cmap
    and name), so glyphs, metrics and shaping are those of the installed font."""
    from fontTools.ttLib import TTFont, newTable
    from fontTools.ttLib.tables.DefaultTable import DefaultTable

    tables = {t: bytes(raw.fontTable(t)) for t in _TABLES}
    tables = {t: d for t, d in tables.items() if d}
    if "cmap" not in tables or "maxp" not in tables:
        raise ValueError("font has no cmap/maxp table")
    font = TTFont(recalcBBoxes=False, recalcTimestamp=False)
    # Qt refuses CFF outlines in a file that says TrueType.
    font.sfntVersion = "OTTO" if ("CFF " in tables or "CFF2" in tables) else "\0\1\0\0"
    for tag, data in tables.items():
        if tag not in ("cmap", "name"):
            table = DefaultTable(tag)
            table.data = data
            font[tag] = table
    glyphs = struct.unpack(">H", tables["maxp"][4:6])[0]
    font.setGlyphOrder([f"g{i}" for i in range(glyphs)])
    cmap = newTable("cmap")
    cmap.decompile(tables["cmap"], font)
    drop = shadowing_code_points(cmap.getBestCmap() or {})
    for sub in cmap.tables:
        if sub.isUnicode():
            for cp in drop:
                sub.cmap.pop(cp, None)
    font["cmap"] = cmap
    if "name" in tables:
        name = newTable("name")
        name.decompile(tables["name"], font)
        postscript = family.replace(" ", "")
        for record in name.names:
            if record.nameID in (1, 4, 16, 21):
                record.string = family
            elif record.nameID in (6, 20):
                record.string = postscript
        font["name"] = name
    out = io.BytesIO()
    font.save(out, reorderTables=False)
    return out.getvalue()


def _base_font() -> QFont:
    families = set(QFontDatabase.families())
    for family in JAPANESE_FAMILIES:
        if family in families:
            return QFont(family)
    return QFont()


def print_family() -> str:
    """Family name of the cleaned print font (built on first use); the plain Japanese family if
    the installed font cannot be read (the PDF still renders, its text layer is Qt's)."""
    global _family
    if _family is None:
        base = _base_font()
        try:
            data = cleaned_font_data(QRawFont.fromFont(base))
            font_id = QFontDatabase.addApplicationFontFromData(data)
            families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        except (ValueError, struct.error):
            families = []
        _family = families[0] if families else base.family()
    return _family


def print_font(point_size: float = 10.0) -> QFont:
    """The font every Mimamori PDF should draw text with."""
    font = QFont(print_family())
    font.setPointSizeF(point_size)
    # ``locl`` swaps digits for glyphs with no cmap entry, which Qt then leaves out of the text.
    font.setFeature(QFont.Tag("locl"), 0)
    return font
