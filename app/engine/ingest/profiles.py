"""Source layouts and mapping profiles, as data.

``SourceSpec`` is a canonical layout from the catalogue (``resources/config/sources.toml``). A ``MappingProfile`` adapts another
city's layout to it without code: column renames (their name → canonical name), code maps per
canonical column (their value → canonical value), date formats per column (strptime formats tried
before the built-in readers), and an alternative file name. Profiles are JSON objects kept in the
store (table ``mapping_profiles``) and edited by data_admin; the engine only reads them.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from dataclasses import dataclass, field

from app.engine import catalogue

PERSON_COLUMNS = ["宛名番号", "世帯番号", "氏名", "氏名カナ", "生年月日", "性別"]

# 性別 codes read by default; a profile's code map for 性別 is applied before these.
SEX_CODES = {"1": "M", "2": "F", "男": "M", "女": "F", "男性": "M", "女性": "F", "M": "M", "F": "F"}

# データ種別 names in manifest.csv → source keys.
@dataclass(frozen=True)
class SourceSpec:
    key: str
    kind: str
    file: str
    format: str = "csv"
    person: str = "subject"
    required: tuple[str, ...] = ()
    must_have: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    month_dates: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()


@dataclass
class MappingProfile:
    """How one source's file differs from the canonical layout (all parts optional)."""

    source: str
    file: str | None = None
    renames: dict[str, str] = field(default_factory=dict)
    code_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "file": self.file, "renames": self.renames,
                           "code_maps": self.code_maps, "date_formats": self.date_formats},
                          ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "MappingProfile":
        d = json.loads(text)
        return cls(source=d["source"], file=d.get("file"), renames=d.get("renames") or {},
                   code_maps=d.get("code_maps") or {}, date_formats=d.get("date_formats") or {})


@functools.lru_cache(maxsize=1)
def source_specs() -> dict[str, SourceSpec]:
    """The canonical layouts of the delivered sources (the catalogue, sources.toml), by source key."""
    person_must = catalogue.catalogue().person_must_have
    specs = {}
    for key, src in catalogue.sources().items():
        if src.origin != "delivery":
            continue
        d = dict(src.layout)
        if d.get("person", "subject") == "subject" and d.get("format", "csv") == "csv":
            d["must_have"] = [*person_must, *[c for c in d.get("must_have", ()) if c not in person_must]]
        specs[key] = SourceSpec(
            key=key, kind=src.kind, file=d["file"], format=d.get("format", "csv"),
            person=d.get("person", "subject"), required=tuple(d.get("required", ())),
            must_have=tuple(d.get("must_have", ())), dates=tuple(d.get("dates", ())),
            month_dates=tuple(d.get("month_dates", ())), numbers=tuple(d.get("numbers", ())))
    return specs


def kind_to_source() -> dict[str, str]:
    """データ種別 (as written in manifest.csv) → source key."""
    out = {}
    for spec in source_specs().values():
        out[spec.kind] = spec.key
        out[spec.key] = spec.key
    out["国保レセプト"] = "receipt"
    out["レセプト"] = "receipt"
    return out


def source_for_file(name: str, profiles: dict[str, MappingProfile] | None = None) -> str | None:
    """Which source a delivered file holds, by the profile's or the canonical file name."""
    profiles = profiles or {}
    for key, prof in profiles.items():
        if prof.file and fnmatch.fnmatch(name.lower(), prof.file.lower()):
            return key
    for spec in source_specs().values():
        if fnmatch.fnmatch(name.lower(), spec.file.lower()):
            return spec.key
    return None
