"""Configured receipt code lists read when rules run (app/engine/ingest/receipt_codes.toml).

The injury list is matched against a night visit's diagnoses at evaluation time — a listed
傷病名コード, or 未コード化傷病名 (0000999) whose name has an injury word — so a city that edits
its list sees the effect at the next scoring run without re-importing receipts.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

CODES_FILE = Path(__file__).resolve().parents[1] / "ingest" / "receipt_codes.toml"


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    return tomllib.loads(Path(path).read_text("utf-8"))


def code_lists(path: Path | None = None) -> dict:
    return _load(str(path or CODES_FILE))


def injury_config(path: Path | None = None) -> dict:
    """{"codes": {code: icd10}, "uncoded": "0000999", "words": [...], "icd10": [...]}."""
    cfg = code_lists(path)
    inj = cfg.get("injury", {})
    return {"codes": dict(cfg.get("injury_codes", {})), "uncoded": str(inj.get("uncoded", "0000999")),
            "words": list(inj.get("uncoded_words", [])), "icd10": list(inj.get("icd10", []))}


def injury_pattern(path: Path | None = None) -> str:
    """Regex over a night visit's attrs JSON: an injury code, or 0000999 with an injury word.

    Never matches anything when both lists are empty (the rules view says so)."""
    cfg = injury_config(path)
    parts = []
    if cfg["codes"]:
        parts.append(r'"code"\s*:\s*"(?:' + "|".join(re.escape(c) for c in sorted(cfg["codes"])) + ')"')
    if cfg["words"]:
        parts.append(r'"code"\s*:\s*"' + re.escape(cfg["uncoded"]) + r'"\s*,\s*"name"\s*:\s*"[^"]*(?:'
                     + "|".join(re.escape(w) for w in cfg["words"]) + ")")
    return "|".join(parts) if parts else r"(?!)"


def code_list_note(name: str, path: Path | None = None) -> str:
    """A plain sentence when a configured code list cannot match anything ('' when it can)."""
    if name == "injury":
        cfg = injury_config(path)
        if not cfg["codes"] and not cfg["words"]:
            return "傷病名コードのリスト(外傷)が空です: このルールは誰も抽出しません"
        if not cfg["codes"]:
            return "傷病名コードのリスト(外傷)が空です: 未コード化傷病名(0000999)の名称だけで判定しています"
        return ""
    raise KeyError(name)


CODE_LISTS = {"injury": injury_pattern}
