"""One catalogue of sources and event types (resources/config/sources.toml, app/engine/catalogue.py).

Adding a source must fail a test when a part is forgotten: its events builder, its generator
writer, its wording, its lane. And nobody keeps a second map keyed by source names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

from app.engine import catalogue, events
from app.engine.ingest import profiles
from app.engine.rules import describe
from app.engine.synth import extracts

ROOT = Path(__file__).resolve().parents[1]


def test_every_delivered_source_has_a_builder_a_writer_and_a_layout():
    delivered = set(catalogue.delivered_sources())
    csv_sources = {k for k in delivered if catalogue.sources()[k].layout.get("format", "csv") == "csv"}
    assert set(events.BUILDERS) == csv_sources            # receipts: events.receipt_events
    assert set(extracts.WRITERS) == csv_sources           # receipts: synth/uke.py
    assert set(profiles.source_specs()) == delivered
    for key in delivered:
        src = catalogue.sources()[key]
        assert src.label and src.short and src.kind and src.types, key
        assert src.disclosure in catalogue.DISCLOSURE_CLASSES, key
        assert src.retention in ("keep", "confirm"), key
        assert src.restriction in catalogue.RESTRICTIONS, key


def test_every_event_type_has_a_label_a_lane_and_a_wording_that_renders():
    lanes = dict(catalogue.lanes())
    fields = {"label", "subtype", "text", "status", "num", *describe.COMPUTED_FIELDS}
    for key, t in catalogue.event_types().items():
        assert t.label, key
        assert t.lane == "" or t.lane in lanes, (key, t.lane)
        names = {n for _lit, n in describe._template(t.wording) if n}
        assert names <= fields, (key, names - fields)
        assert t.disclosure in (None, *catalogue.DISCLOSURE_CLASSES), key
        assert t.restriction in catalogue.RESTRICTIONS, key
        row = pd.DataFrame({"date": [pd.Timestamp("2024-05-01")], "type": [key], "subtype": ["4か月"],
                            "value_text": ["attended"], "value_num": [2.0],
                            "attrs": ['{"items": [0,0,0,0,0,0,0,0,0,1], "diagnoses": [{"name": "頭部打撲"}]}']})
        text = describe.describe(row).iloc[0]
        assert text.startswith("2024-05-01 ") and key not in text.split(" ", 1)[1], (key, text)


def test_wording_examples():
    rows = pd.DataFrame({
        "date": pd.to_datetime(["2024-05-01"] * 4),
        "type": ["checkup", "dental", "epds", "public_assistance"],
        "subtype": ["4か月", "3歳", "", ""], "value_text": ["missed", "attended", "", "end"],
        "value_num": [float("nan"), 3.0, 14.0, float("nan")],
        "attrs": ["{}", "{}", '{"items": [0,0,0,0,0,0,0,0,0,2]}', "{}"]})
    assert describe.describe(rows).tolist() == [
        "2024-05-01 4か月健診 未受診", "2024-05-01 3歳歯科健診 受診 むし歯3本",
        "2024-05-01 EPDS 14点(問10: 2)", "2024-05-01 生活保護 終了"]


def test_derived_maps_agree_with_the_catalogue():
    from app.engine import timeline_layout, worklist
    from app.store import exports
    from app.store.queries import worklist as wq

    assert worklist.SOURCE_LABELS == timeline_layout.SOURCE_LABELS == catalogue.source_labels()
    assert worklist.SOURCE_LABELS["jisou"] == "児童相談所記録"
    assert exports.NEVER_SOURCES == {"dv", "jisou"} and exports.NEVER_TYPES == {"dv", "custody"}
    assert wq.CUSTODY_SOURCES == ("jisou",) and wq.CUSTODY_TYPES == ("custody",)
    assert timeline_layout.TYPE_LANE["night_visit"] == "night"
    assert [k for k, _ in timeline_layout.LANES][:2] == ["flags", "checkup"]


def test_retention_matches_the_seeded_policy():
    """The catalogue's retention is the policy the governance migration seeds (report table 2-14)."""
    sql = "\n".join(p.read_text("utf-8") for p in sorted((ROOT / "app/store/migrations").glob("*.sql")))
    seeded = dict(re.findall(r"\('(\w+)', '(keep|confirm)', \d+,", sql))
    for key in catalogue.delivered_sources():
        assert seeded.get(key) == catalogue.sources()[key].retention, key


def _source_keyed_literals(path: Path, keys: set[str]) -> list[str]:
    """Dict literals with text values, and set literals, keyed by two or more source names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Dict):
            names = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            texty = all(isinstance(v, ast.Constant) and isinstance(v.value, str) or isinstance(v, ast.Tuple)
                        for v in node.values)
            if texty and len(set(names) & keys) >= 2:
                found.append(f"{path.name}:{node.lineno}")
        elif isinstance(node, ast.Set):
            names = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(set(names) & keys) >= 2:
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_second_map_keyed_by_source_names():
    keys = set(catalogue.sources()) - {"epds", "assessment"}  # also event type names
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        found += _source_keyed_literals(path, keys)
    assert found == []


@pytest.mark.parametrize("snippet", ['X = {"jumin": "住基", "kenshin": "健診"}', 'Y = {"dv", "jisou"}'])
def test_the_map_check_can_fail(tmp_path, snippet):
    path = tmp_path / "probe.py"
    path.write_text(snippet, "utf-8")
    assert _source_keyed_literals(path, set(catalogue.sources()))
