"""The one catalogue of data sources and event types (resources/config/sources.toml).

Every label, short label, timeline lane, wording template, default disclosure class, retention,
freshness and restriction of a source or an event type is read from here, once; lists,
timelines, tooltips, prints, exports and the importer derive their maps from these functions
instead of keeping their own dictionaries (a test walks ``app/`` for second copies).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field

from app.resource_files import resource_path

DISCLOSURE_CLASSES = ("discuss", "staff", "never")
RESTRICTIONS = ("", "never_reveal", "custody", "raw_only")


@dataclass(frozen=True)
class EventType:
    key: str
    source: str
    label: str
    lane: str
    wording: str
    disclosure: str | None = None  # None: the source's default
    restriction: str = ""


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    short: str
    kind: str
    disclosure: str
    retention: str
    freshness: bool = False
    restriction: str = ""
    origin: str = "delivery"
    layout: dict = field(default_factory=dict)  # canonical file layout (file, format, required, ...)
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    sources: dict[str, Source]
    types: dict[str, EventType]
    lanes: dict[str, str]   # lane key -> label, top to bottom
    status: dict[str, str]  # value_text state -> Japanese word
    person_must_have: tuple[str, ...]


def _parse(data: dict) -> Catalogue:
    sources, types = {}, {}
    for key, d in data["sources"].items():
        type_keys = []
        for tkey, t in d.get("types", {}).items():
            if tkey in types:
                raise ValueError(f"event type {tkey} is declared by {types[tkey].source} and {key}")
            types[tkey] = EventType(key=tkey, source=key, label=t["label"], lane=t.get("lane", ""),
                                    wording=t.get("wording", "{label}"), disclosure=t.get("disclosure"),
                                    restriction=t.get("restriction", ""))
            type_keys.append(tkey)
        layout = {k: v for k, v in d.items() if k in ("file", "format", "person", "required", "must_have",
                                                       "dates", "month_dates", "numbers")}
        sources[key] = Source(key=key, label=d["label"], short=d.get("short", d["label"]),
                              kind=d.get("kind", d["label"]), disclosure=d["disclosure"],
                              retention=d["retention"], freshness=bool(d.get("freshness", False)),
                              restriction=d.get("restriction", ""), origin=d.get("origin", "delivery"),
                              layout=layout, types=tuple(type_keys))
    return Catalogue(sources=sources, types=types, lanes=dict(data["lanes"]), status=dict(data["status"]),
                     person_must_have=tuple(data.get("person_must_have", ())))


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The catalogue, read once per process."""
    return _parse(tomllib.loads(resource_path("config", "sources.toml").read_text("utf-8")))


def sources() -> dict[str, Source]:
    return catalogue().sources


def delivered_sources() -> list[str]:
    """Keys of the sources that arrive in a delivery folder (not written by Mimamori)."""
    return [k for k, s in sources().items() if s.origin == "delivery"]


def event_types() -> dict[str, EventType]:
    return catalogue().types


def source_label(key: str) -> str:
    """Japanese name of a source (the key itself when the source is unknown)."""
    s = sources().get(key)
    return s.label if s else key


def source_short(key: str) -> str:
    s = sources().get(key)
    return s.short if s else key


def type_label(key: str) -> str:
    t = event_types().get(key)
    return t.label if t else key


def status_word(text: str) -> str:
    """Japanese word for a value_text state (attended → 受診); other text unchanged."""
    return catalogue().status.get(text, text)


@functools.lru_cache(maxsize=1)
def source_labels() -> dict[str, str]:
    return {k: s.label for k, s in sources().items()}


@functools.lru_cache(maxsize=1)
def lanes() -> tuple[tuple[str, str], ...]:
    """(lane key, label) from top to bottom."""
    return tuple(catalogue().lanes.items())


@functools.lru_cache(maxsize=1)
def type_lanes() -> dict[str, str]:
    """Event type -> lane key, for the types drawn as marks (series-only types are absent)."""
    return {k: t.lane for k, t in event_types().items() if t.lane}


@functools.lru_cache(maxsize=1)
def disclosure_defaults() -> tuple[dict[str, str], dict[str, str]]:
    """(class per source, class per type that overrides its source)."""
    return ({k: s.disclosure for k, s in sources().items()},
            {k: t.disclosure for k, t in event_types().items() if t.disclosure})


def freshness_sources() -> tuple[str, ...]:
    """Sources whose age matters for a child's picture (freshness warnings, the as-of line)."""
    return tuple(k for k, s in sources().items() if s.freshness)


def never_sources() -> frozenset[str]:
    """Sources never printed or exported, whatever a row's own class says."""
    return frozenset(k for k, s in sources().items() if s.restriction in ("never_reveal", "custody"))


def never_types() -> frozenset[str]:
    """Event types never printed or exported, whatever a row's own class says."""
    return frozenset(k for k, t in event_types().items()
                     if t.restriction == "custody" or sources()[t.source].restriction in ("never_reveal", "custody"))


def custody_sources() -> tuple[str, ...]:
    """Sources only roles with the view_custody capability may see."""
    return tuple(k for k, s in sources().items() if s.restriction == "custody")


def custody_types() -> tuple[str, ...]:
    return tuple(k for k, t in event_types().items() if t.restriction == "custody")


def raw_only_types() -> tuple[str, ...]:
    """Types used for extraction only: shown as a flag with its reason, not as a row."""
    return tuple(k for k, t in event_types().items() if t.restriction == "raw_only")
