"""Districts and health-welfare centres: what an account's area means in districts."""

from __future__ import annotations

import csv
from functools import lru_cache

from app.resource_files import resource_path


@lru_cache(maxsize=1)
def district_table() -> tuple[tuple[str, str], ...]:
    """(district, health-welfare centre) pairs from the shipped reference."""
    with open(resource_path("reference", "yokosuka_districts.csv"), encoding="utf-8") as fh:
        return tuple((row["district"], row["health_welfare_centre"]) for row in csv.DictReader(fh))


def all_districts() -> list[str]:
    return [d for d, _ in district_table()]


def centres() -> list[str]:
    return sorted({c for _, c in district_table()})


def expand(areas: list[str]) -> list[str]:
    """Districts covered by a list of districts and/or centres (中央/北/南/西 or 中央センター)."""
    out: list[str] = []
    for area in areas:
        name = area.removesuffix("健康福祉センター").removesuffix("センター")
        matches = [d for d, c in district_table() if c == name] or [d for d, _ in district_table() if d == name]
        if not matches:
            raise ValueError(f"unknown area: {area}")
        out.extend(m for m in matches if m not in out)
    return out
