"""Write resources/reference/mj_variant_fold.tsv from the installed jntajis (the MJ縮退マップ).

    python tools/mj_variant_fold.py

Run after upgrading jntajis-python; tests/test_linkage_names.py fails until the file matches.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.engine.names import VARIANT_FOLD_FILE, build_variant_fold  # noqa: E402

HEADER = """\
# Kanji old form -> standard form, one pair a line (tab between), for linkage (名寄せ).
# Built by app/engine/names.py build_variant_fold() from the MJ縮退マップ (文字情報技術促進協議会,
# originally IPA; CC BY-SA 2.1 JP) as shipped in jntajis-python {version} (BSD-3-Clause): its
# JIS包摂規準・UCS統合規則 and 法務省戸籍法関連通達・通知 schemes, folding towards the JIS X 0208 level.
# Written by tools/mj_variant_fold.py; do not edit by hand.
"""


def main() -> int:
    fold = build_variant_fold()
    path = ROOT / "resources" / Path(*VARIANT_FOLD_FILE)
    lines = [f"{old}\t{new}" for old, new in sorted(fold.items())]
    path.write_text(HEADER.format(version=importlib.metadata.version("jntajis-python"))
                    + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(lines)} pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
