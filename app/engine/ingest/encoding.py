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


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a delivered file. Returns (text, encoding name).

    A BOM decides; otherwise strict UTF-8 is tried first (CP932 bytes of kanji almost never
    form valid UTF-8), then CP932. Anything else is a fatal, named problem for the file.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise EncodingProblem(f"UTF-8（BOM付き）として読めません（{exc.start}バイト目）") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        odd = len(_IMPLAUSIBLE.findall(text))
        if odd == 0:
            return text, "utf-8"
        # Short CP932 byte runs can also be valid UTF-8 ("ﾊ　" → "ʁ@"): take CP932 when it
        # reads as more plausible Japanese; a tie stays UTF-8.
        try:
            alt = data.decode("cp932")
            if len(_IMPLAUSIBLE.findall(alt)) < odd:
                return alt, "cp932"
        except UnicodeDecodeError:
            pass
        return text, "utf-8"
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise EncodingProblem(
            f"文字コードを判定できません（UTF-8でもShift_JIS(CP932)でもありません、{exc.start}バイト目）"
        ) from None
