"""Which text encoding a delivered file uses: UTF-8 (with or without BOM) or CP932."""

from __future__ import annotations

import codecs
import re

# Characters a Japanese extract plausibly holds: ASCII, Japanese punctuation, kana, kanji,
# full/half-width forms, CJK compatibility ideographs (﨑), common symbols.
_IMPLAUSIBLE = re.compile(r"[^\x00-\x7f\u3000-\u30ff\u3190-\u319f\u31f0-\u31ff\u3200-\u33ff"
                          r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2010-\u2312"
                          r"\u2460-\u24ff\u2500-\u257f\u25a0-\u26ff\u00a7\u00a8\u00b0\u00b1"
                          r"\u00b4\u00b6\u00d7\u00f7\u0391-\u03c9\u0401-\u0451]")


class EncodingProblem(ValueError):
    """The file is in neither UTF-8 nor CP932; the message is Japanese."""


def choose_encoding(data: bytes) -> tuple[str, str | None]:
    """The encoding of a delivered file, and its text when choosing needed it (UTF-8).

    A BOM decides; otherwise strict UTF-8 is tried first (CP932 bytes of kanji almost never
    form valid UTF-8), then CP932. ``("cp932", None)``: UTF-8 failed and the bytes are not yet
    known to be CP932 — the caller decodes them (whole, or in pieces cut at ASCII bytes, which
    are never the second byte of a CP932 character) and calls ``decode_bytes`` for the named
    problem when that fails.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return "utf-8-sig", data[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingProblem(f"UTF-8（BOM付き）として読めません（{exc.start}バイト目）") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp932", None
    odd = len(_IMPLAUSIBLE.findall(text))
    if odd == 0:
        return "utf-8", text
    # Short CP932 byte runs can also be valid UTF-8 ("ﾊ　" → "ʁ@"): take CP932 when it
    # reads as more plausible Japanese; a tie stays UTF-8.
    try:
        alt = data.decode("cp932")
        if len(_IMPLAUSIBLE.findall(alt)) < odd:
            return "cp932", alt
    except UnicodeDecodeError:
        pass
    return "utf-8", text


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a delivered file (see ``choose_encoding``). Returns (text, encoding name).

    Anything but UTF-8 or CP932 is a fatal, named problem for the file.
    """
    enc, text = choose_encoding(data)
    if text is not None:
        return text, enc
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise EncodingProblem(
            f"文字コードを判定できません（UTF-8でもShift_JIS(CP932)でもありません、{exc.start}バイト目）"
        ) from None
