"""Linkage measured against the generator's truth (truth/records.csv, malformed.csv, duplicates.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.engine.ingest.delivery import read_delivery
from app.engine.ingest.linked import process_delivery
from app.engine.pseudonyms import Keyer


def pairwise(idmap: pd.DataFrame, truth: pd.DataFrame) -> dict:
    m = idmap.merge(truth, on=["file", "line"])

    def pairs(groups) -> int:
        n = groups.size()
        return int((n * (n - 1) // 2).sum())

    linked = m[m["research_id"] != ""]
    tp = pairs(linked.groupby(["research_id", "true_person_id"]))
    return {"precision": tp / max(pairs(linked.groupby("research_id")), 1),
            "recall": tp / max(pairs(m.groupby("true_person_id")), 1),
            "review": int((m["research_id"] == "").sum()), "records": len(m)}


def _run(folder):
    delivery = read_delivery(folder)
    processed = process_delivery(delivery, Keyer(b"truth-test-secret-0123456789abcdef"),
                                 rng=np.random.default_rng(3))
    truth = pd.read_csv(folder / "truth" / "records.csv", dtype={"file": str, "true_person_id": str})
    return delivery, processed, truth


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from app.engine.synth import generate_delivery

    folder = tmp_path_factory.mktemp("synth") / "small"
    generate_delivery(folder, children=1500, seed=11)
    return folder, *_run(folder)


def test_every_malformed_row_is_quarantined_and_nothing_else_is_lost(small):
    folder, delivery, processed, truth = small
    malformed = pd.read_csv(folder / "truth" / "malformed.csv")
    duplicates = pd.read_csv(folder / "truth" / "duplicates.csv")
    q = delivery.quarantine
    caught = malformed.merge(q, on=["file", "line"], how="left", indicator=True)
    assert (caught["_merge"] == "both").all(), caught[caught["_merge"] != "both"].head()
    dup = duplicates.merge(q, on=["file", "line"], how="left", indicator=True)
    assert (dup["_merge"] == "both").all()
    # Quarantined = malformed + duplicates, no healthy row was quarantined.
    expected = pd.concat([malformed[["file", "line"]], duplicates[["file", "line"]]]).drop_duplicates()
    assert len(q.drop_duplicates(["file", "line"])) == len(expected)
    # Every healthy truth record is in the idmap.
    healthy = truth.merge(expected, on=["file", "line"], how="left", indicator=True)
    healthy = healthy[healthy["_merge"] == "left_only"]
    assert len(healthy.merge(processed.idmap, on=["file", "line"])) == len(healthy)


def test_small_municipality_precision_and_recall(small):
    _, _, processed, truth = small
    res = pairwise(processed.idmap, truth)
    assert res["precision"] >= 0.995 and res["recall"] >= 0.99, res


@pytest.mark.slow
def test_default_demo_precision_and_recall(tmp_path_factory):
    """The issue's acceptance figure, on the full default demo (13,913 children)."""
    from app.engine.synth import generate_delivery

    folder = tmp_path_factory.mktemp("synth") / "demo"
    generate_delivery(folder)
    _, processed, truth = _run(folder)
    res = pairwise(processed.idmap, truth)
    print(f"\npairwise precision {res['precision']:.5f} recall {res['recall']:.5f} "
          f"records {res['records']} in review {res['review']}")
    assert res["precision"] >= 0.995 and res["recall"] >= 0.99, res
    assert res["review"] < 0.005 * res["records"]
