"""Where shipped files live. importlib.resources keeps this working in a frozen build."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of a file under the top-level ``resources`` package."""
    base = resources.files("resources")
    return Path(str(base.joinpath(*parts)))
