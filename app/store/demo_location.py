"""Where the demo store lives and its shared password (used by the demo command, the snapshot
command and the views' standalone previews, which may not import the commands)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEMO_PASSWORD = "mimamori-demo"


def demo_store_path() -> Path:
    """Per-user data folder: %LOCALAPPDATA%\\Mimamori on Windows, $XDG_DATA_HOME/mimamori elsewhere."""
    if os.environ.get("MIMAMORI_DEMO_DB"):
        return Path(os.environ["MIMAMORI_DEMO_DB"])
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "Mimamori"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "mimamori"
    return base / "demo" / "mimamori-demo.db"
