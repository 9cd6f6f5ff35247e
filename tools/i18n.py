"""Japanese translations: extract (pyside6-lupdate), fill, compile (pyside6-lrelease), check.

Source strings are English in the code (self.tr / QCoreApplication.translate); each UI
area keeps its own Qt Linguist file in resources/i18n/ja/<area>.ts so that parallel work
does not collide; ``build`` compiles them all into resources/i18n/mimamori_ja.qm, which
the application loads at start (Japanese is the default language).

    python tools/i18n.py update AREA FILE...   # extract strings of FILE... into ja/AREA.ts
    python tools/i18n.py fill AREA JSON        # set translations from {"English": "日本語"}
    python tools/i18n.py build                 # compile every ja/*.ts into mimamori_ja.qm
    python tools/i18n.py check                 # list strings in app/ without a translation
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TS_DIR = ROOT / "resources" / "i18n" / "ja"
QM_FILE = ROOT / "resources" / "i18n" / "mimamori_ja.qm"


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found (it ships with PySide6-Essentials)")
    return found


def _lupdate(files: list[Path], ts: Path) -> None:
    subprocess.run([_tool("pyside6-lupdate"), "-locations", "none", "-no-obsolete",
                    "-target-language", "ja_JP", *map(str, files), "-ts", str(ts)],
                   check=True, capture_output=True)


def translations() -> dict[tuple[str, str], str]:
    """(context, source) -> Japanese, from every committed .ts file."""
    out = {}
    for ts in sorted(TS_DIR.glob("*.ts")):
        for ctx in ET.parse(ts).getroot().iter("context"):
            name = ctx.findtext("name")
            for msg in ctx.iter("message"):
                tr = msg.find("translation")
                if tr is not None and (tr.text or "").strip() and tr.get("type") not in ("unfinished", "obsolete", "vanished"):
                    out[(name, msg.findtext("source"))] = tr.text
    return out


def extracted(paths: list[Path] | None = None) -> set[tuple[str, str]]:
    """(context, source) of every translatable string in the given files (default: app/)."""
    files = paths or sorted(p for p in (ROOT / "app").rglob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        ts = Path(tmp) / "all.ts"
        _lupdate(files, ts)
        root = ET.parse(ts).getroot()
        return {(ctx.findtext("name"), msg.findtext("source"))
                for ctx in root.iter("context") for msg in ctx.iter("message")}


def missing() -> list[tuple[str, str]]:
    have = translations()
    return sorted(k for k in extracted() if k not in have)


def fill(area: str, mapping: dict[str, str]) -> int:
    ts = TS_DIR / f"{area}.ts"
    tree = ET.parse(ts)
    count = 0
    for msg in tree.getroot().iter("message"):
        source = msg.findtext("source")
        if source in mapping:
            tr = msg.find("translation")
            tr.text = mapping[source]
            tr.attrib.pop("type", None)
            count += 1
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return count


def build() -> Path:
    files = sorted(TS_DIR.glob("*.ts"))
    subprocess.run([_tool("pyside6-lrelease"), *map(str, files), "-qm", str(QM_FILE)],
                   check=True, capture_output=True)
    return QM_FILE


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd = argv[0]
    if cmd == "update":
        TS_DIR.mkdir(parents=True, exist_ok=True)
        _lupdate([Path(f) for f in argv[2:]], TS_DIR / f"{argv[1]}.ts")
    elif cmd == "fill":
        print(f"filled {fill(argv[1], json.loads(Path(argv[2]).read_text('utf-8')))} messages")
    elif cmd == "build":
        print(f"wrote {build()}")
    elif cmd == "check":
        gaps = missing()
        for ctx, src in gaps:
            print(f"{ctx}: {src}")
        print(f"{len(gaps)} untranslated")
        return 1 if gaps else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
