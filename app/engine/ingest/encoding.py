"""Which text encoding a delivered file uses: UTF-8 (with or without BOM) or CP932."""

from __future__ import annotations

import codecs


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
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise EncodingProblem(
            f"文字コードを判定できません（UTF-8でもShift_JIS(CP932)でもありません、{exc.start}バイト目）"
        ) from None
