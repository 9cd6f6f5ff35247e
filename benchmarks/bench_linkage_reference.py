"""Our linkage (名寄せ) against a reference implementation (recordlinkage, BSD-3) in one run.

Both link the same generated records and are scored against the generator's truth
(truth/records.csv: file, line → true person). The task scored is the one that matters to a
caseworker: attach every non-registry row (checkup, vaccination, receipt, EPDS …) to the right
person of the resident registry.

- ours: ``app.engine.linkage.link`` on all person-bearing rows (registry included), exactly as
  the import runs it; a row counts as linked when its cluster holds registry rows.
- reference: recordlinkage on the same rows, with the same name normalisation (our
  ``normalise_records``, so only the matching differs): candidate pairs by blocking on birth date
  and on 宛名番号; features 宛名番号 exact, kanji and kana Jaro–Winkler ≥ 0.85, birth date, sex,
  世帯番号 exact; the unsupervised ECM classifier (Fellegi–Sunter fitted by EM); each row takes its
  best-scoring matched registry row.

precision = correct links / links made; recall = correct links / rows whose person is in the
registry. Rows sent to review count as not linked. For ours also, over all person-bearing rows
(registry rows included): **wrong merges** = clusters holding rows of more than one true person;
**split persons** = true persons whose rows (review rows left out) lie in more than one cluster;
**in review** = rows waiting for a data_admin, in how many items, and how many items propose the
row's true person. The delivery is generated into a temporary
folder deleted at the end.

    python benchmarks/bench_linkage_reference.py [CHILDREN]     (default 13,913; quick: 300)
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run_all import peak_rss_mb, row  # noqa: E402

FULL_CHILDREN = 13913
QUICK_CHILDREN = 300
KEYS = ["resident_number", "k", "kn", "b", "s", "household_number"]


def load(children: int, folder: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Generated person-bearing rows (linkage layout) and their true person ids."""
    from app.engine.ingest.delivery import read_delivery
    from app.engine.ingest.linked import delivery_records
    from app.engine.synth import generate_delivery

    generate_delivery(folder, children=children, seed=20240401)
    records = delivery_records(read_delivery(folder)).reset_index(drop=True)
    truth = pd.read_csv(folder / "truth" / "records.csv", dtype=str)
    truth["line"] = truth["line"].astype(np.int64)
    key = pd.MultiIndex.from_frame(records[["file", "line"]].astype({"line": np.int64}))
    true_id = truth.set_index(["file", "line"])["true_person_id"].reindex(key)
    return records, pd.Series(true_id.to_numpy(), index=records.index)


def score(predicted: pd.Series, true_id: pd.Series, is_registry: pd.Series) -> dict:
    """Precision/recall of row → registry-person links (predicted: true id of the chosen person)."""
    registry_people = set(true_id[is_registry].dropna())
    target = ~is_registry & true_id.notna()
    pred, truth = predicted[target], true_id[target]
    made = pred.notna()
    correct = made & (pred == truth)
    linkable = truth.isin(registry_people)
    precision = correct.sum() / made.sum() if made.sum() else float("nan")
    recall = correct.sum() / linkable.sum() if linkable.sum() else float("nan")
    return {"precision": float(precision), "recall": float(recall), "links": int(made.sum()),
            "rows": int(target.sum()), "linkable": int(linkable.sum())}


def cluster_errors(entity: pd.Series, true_id: pd.Series, in_review: np.ndarray) -> dict:
    """Wrong merges (clusters of several true persons) and split persons (one person, several
    clusters), over rows whose true person is known. ``split_persons`` leaves review rows out;
    ``split_with_review`` counts each review item as a cluster of its own (the person is split
    until a data_admin decides)."""
    df = pd.DataFrame({"entity": entity.to_numpy(), "tid": true_id.to_numpy(), "review": in_review}).dropna()
    settled = df[~df["review"]]
    persons_per_cluster = settled.groupby("entity")["tid"].nunique()
    clusters_per_person = settled.groupby("tid")["entity"].nunique()
    all_clusters = df.groupby("tid")["entity"].nunique()
    return {"wrong_merges": int((persons_per_cluster > 1).sum()),
            "split_persons": int((clusters_per_person > 1).sum()),
            "split_with_review": int((all_clusters > 1).sum()),
            "in_review": int(in_review.sum())}


def ours(records: pd.DataFrame, true_id: pd.Series, is_registry: pd.Series) -> tuple[float, pd.Series, dict]:
    from app.engine.linkage import link

    t = time.perf_counter()
    result = link(records, lambda s: hashlib.sha256(s.encode()).hexdigest())
    wall = time.perf_counter() - t
    ent = result.records["entity"]
    # A registry cluster's person is the true person of most of its registry rows.
    reg_person = (pd.DataFrame({"entity": ent[is_registry], "tid": true_id[is_registry]}).dropna()
                  .groupby("entity")["tid"].agg(lambda s: s.mode().iloc[0]))
    predicted = ent.map(reg_person)
    in_review = result.records["status"].to_numpy() == "review"
    predicted[in_review] = np.nan
    errors = cluster_errors(ent, true_id, in_review)
    # Review items whose proposed candidate is the row's true person (one item may hold rows).
    rv = result.review
    errors["review_items"] = int(len(rv))
    errors["review_right"] = int((rv["candidate"].map(reg_person).to_numpy()
                                  == true_id.reindex(rv["rec"]).to_numpy()).sum()) if len(rv) else 0
    return wall, predicted, errors


def reference(records: pd.DataFrame, true_id: pd.Series, is_registry: pd.Series) -> tuple[float, pd.Series, int]:
    import recordlinkage as rl

    from app.engine.linkage import normalise_records

    t = time.perf_counter()
    recs = normalise_records(records)[KEYS].astype(str).replace({"nan": "", "NaT": ""})
    # Identical key tuples compare identically: compare each distinct tuple once.
    left_all = recs[~is_registry]
    left = left_all.drop_duplicates().reset_index(drop=True)
    right = recs[is_registry].drop_duplicates().copy()
    right_tid = true_id[right.index]
    right = right.reset_index(drop=True)
    right_tid.index = right.index
    by_date = rl.Index()
    by_date.block("b")
    pairs = by_date.index(left[left["b"] != ""], right[right["b"] != ""])
    by_number = rl.Index()
    by_number.block("resident_number")
    pairs = pairs.union(by_number.index(left[left["resident_number"] != ""],
                                        right[right["resident_number"] != ""]))
    cmp = rl.Compare(n_jobs=1)
    cmp.exact("resident_number", "resident_number", label="number")
    cmp.string("k", "k", method="jarowinkler", threshold=0.85, label="kanji")
    cmp.string("kn", "kn", method="jarowinkler", threshold=0.85, label="kana")
    cmp.exact("b", "b", label="birth")
    cmp.exact("s", "s", label="sex")
    cmp.exact("household_number", "household_number", label="household")
    features = cmp.compute(pairs, left, right)
    # An empty field agrees with nothing: exact() would call '' == '' a match.
    for col, field in (("number", "resident_number"), ("household", "household_number")):
        empty = left[field].to_numpy()[features.index.get_level_values(0)] == ""
        features.loc[empty, col] = 0
    ecm = rl.ECMClassifier(binarize=None)
    matches = ecm.fit_predict(features.astype(int))
    chosen = features.loc[matches].sum(axis=1).rename("total").reset_index()
    chosen.columns = ["l", "r", "total"]
    best = chosen.sort_values(["l", "total"], ascending=[True, False]).drop_duplicates("l")
    pred_by_key = pd.Series(right_tid.reindex(best["r"]).to_numpy(), index=best["l"].to_numpy())
    key_index = pd.MultiIndex.from_frame(left)
    pos = pd.Series(np.arange(len(left)), index=key_index)
    row_pos = pos.reindex(pd.MultiIndex.from_frame(left_all)).to_numpy()
    predicted = pd.Series(np.nan, index=records.index, dtype=object)
    predicted[left_all.index] = pred_by_key.reindex(row_pos).to_numpy()
    wall = time.perf_counter() - t
    return wall, predicted, len(pairs)


def run(size: int | None = None, quick: bool = False) -> list[dict]:
    children = size or (QUICK_CHILDREN if quick else FULL_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-link-") as tmp:
        records, true_id = load(children, Path(tmp) / "delivery")
    is_registry = (records["source"] == "jumin") & records["resident_number"].fillna("").astype(str).ne("")
    out = []
    wall, predicted, errors = ours(records, true_id, is_registry)
    m = score(predicted, true_id, is_registry)
    out.append(row("linkage: ours (app.engine.linkage)", children, wall, peak_rss_mb(),
                   f"P={m['precision']:.5f} R={m['recall']:.5f} on {m['rows']:,} rows; "
                   f"{errors['wrong_merges']} wrong merges, {errors['split_persons']} split persons "
                   f"({errors['split_with_review']} counting review items), {errors['in_review']} rows in review "
                   f"in {errors['review_items']} items, {errors['review_right']} proposing the right person", **m, **errors))
    try:
        import recordlinkage  # noqa: F401
    except ImportError:
        out.append(row("linkage: recordlinkage", children, None, None,
                       "not available (pip install recordlinkage)", status="not available"))
        return out
    wall, predicted, n_pairs = reference(records, true_id, is_registry)
    m = score(predicted, true_id, is_registry)
    out.append(row("linkage: recordlinkage ECM (reference)", children, wall, peak_rss_mb(),
                   f"P={m['precision']:.5f} R={m['recall']:.5f}; {n_pairs:,} candidate pairs", pairs=n_pairs, **m))
    return out


if __name__ == "__main__":
    from benchmarks.run_all import format_table

    print(format_table(run(int(sys.argv[1]) if len(sys.argv) > 1 else None)))
