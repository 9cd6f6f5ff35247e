"""The 障害児通所支援 extract end to end: the recipe of docs/ARCHITECTURE.md "How to add a source".

A delivery with shogaiji_tsusho.csv is imported into the encrypted store: rows become events of
the right child with the catalogue's label, lane, wording, disclosure and retention; a bad row
is quarantined with its reason; the generator writes the file in the layout the importer reads.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from app.engine import catalogue
from app.engine import timeline_layout as tl
from app.engine.ingest.sample import write_sample_delivery
from app.engine.rules.describe import describe
from app.store import frames
from app.store.deletion import retention_status
from app.store.importing import import_delivery

HEADER = "宛名番号,世帯番号,氏名,氏名カナ,生年月日,性別,サービス種別,事業所名,支給決定日,支給終了日"
ROWS = [
    # 髙橋 一郎 (100003): a service that ended, written in 和暦 with half-width kana.
    "100003,1001,髙橋　一郎,ﾀｶﾊｼ ｲﾁﾛｳ,R3.5.5,1,児童発達支援,療育ひろばつくし,令和5年4月1日,令和6年3月31日",
    # 渡邊 蓮 (100011), variant kanji 渡辺: ongoing.
    "100011,1002,渡辺 蓮,ワタナベ レン,2022-08-08,1,保育所等訪問支援,こども発達センターはばたき,2024-06-01,",
    # An impossible decision date: quarantined, never half-imported.
    "100020,1003,佐藤 陽菜,サトウ ヒナ,2022-03-03,2,児童発達支援,療育ひろばつくし,2024-02-30,",
]


def _delivery(tmp_path):
    folder = write_sample_delivery(tmp_path / "d1")
    (folder / "shogaiji_tsusho.csv").write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("cp932"))
    return folder


def test_import_makes_events_with_the_catalogue_description(new_store, tmp_path):
    summary = import_delivery(new_store, _delivery(tmp_path))
    assert summary.reconciled()
    conn = new_store.conn
    ev = frames.events_frame(conn, sources=["shogaiji_tsusho"])
    assert sorted(ev["value_text"]) == ["end", "start", "start"]
    assert set(ev["type"]) == {"developmental_support"} and set(ev["disclosure"]) == {"staff"}
    children = frames.persons_frame(conn).set_index("person_id")
    idmap = dict(((f, line), r) for f, line, r in conn.execute("SELECT file, line, research_id FROM idmap"))
    takahashi = idmap[("shogaiji_tsusho.csv", 2)]
    assert idmap[("kenshin.csv", 2)] == takahashi          # linked to the same child as his checkup
    assert children.loc[takahashi, "kind"] == "child"
    rows = ev[ev["person_id"] == takahashi].sort_values("date")
    assert describe(rows).tolist() == ["2023-04-01 児童発達支援 開始", "2024-03-31 児童発達支援 終了"]
    assert '"facility":"療育ひろばつくし"' in rows["attrs"].iloc[0].replace(" ", "")
    quarantine = conn.execute("SELECT line, reason FROM quarantine WHERE file = 'shogaiji_tsusho.csv'").fetchall()
    assert [line for line, _ in quarantine] == [4] and "支給決定日" in quarantine[0][1]
    src = frames.sources_frame(conn).set_index("file_name").loc["shogaiji_tsusho.csv"]
    assert src["source"] == "shogaiji_tsusho" and (src["rows_read"], src["rows_quarantined"]) == (3, 1)
    # The timeline draws it on its own lane; retention is the cautious 'confirm' of unlisted sources.
    assert tl.assign_lanes(rows, takahashi, pd.DataFrame(columns=["person_id"]), False).tolist() == ["support"] * 2
    assert tl.LANE_LABELS["support"] == "療育・通所支援"
    assert catalogue.source_label("shogaiji_tsusho") == "障害児通所支援"
    retention = retention_status(new_store, today=dt.date(2025, 1, 1)).set_index("source")
    assert retention.loc["shogaiji_tsusho", "policy"] == "confirm"


def test_generator_writes_the_layout_the_importer_reads(tmp_path):
    from app.engine.ingest.delivery import read_delivery
    from app.engine.synth import generate_delivery

    out = tmp_path / "gen"
    summary = generate_delivery(out, children=300, seed=5)
    assert summary.rows["shogaiji_tsusho.csv"] > 0
    delivery = read_delivery(out)
    table = delivery.tables["shogaiji_tsusho"]
    assert len(table) > 0 and set(table["サービス種別"]) <= {"児童発達支援", "保育所等訪問支援", "医療型児童発達支援",
                                                          "居宅訪問型児童発達支援"}
    manifest = pd.read_csv(out / "manifest.csv", encoding="utf-8-sig").set_index("ファイル名")
    assert manifest.loc["shogaiji_tsusho.csv", "データ種別"] == "障害児通所支援"
