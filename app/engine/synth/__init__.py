"""Synthetic municipality: a realistic delivery of departmental extracts with known truth.

``generate_delivery(out_dir, children, seed, as_of)`` writes every file of DATA_FORMATS.md plus
``truth/`` (never read by import). Same seed, N and as-of give byte-identical files.
Layout, truth format and calibration: docs/SYNTH.md.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine.progress import ensure
from app.engine.synth import extracts, mess
from app.engine.synth.geography import build_geojson
from app.engine.synth.uke import write_uke
from app.engine.synth.world import World, build_world
from app.engine.synth.writers import STYLES, Truth

__all__ = ["GenerationSummary", "generate_delivery", "build_world", "World"]


@dataclass
class GenerationSummary:
    """What a generation run produced: counts per file and timings (seconds)."""
    out_dir: Path
    children: int
    seed: int
    as_of: dt.date
    persons: int = 0
    households: int = 0
    custody_list: int = 0
    receipts: int = 0
    uke_files: int = 0
    rows: dict = field(default_factory=dict)
    malformed_rows: int = 0
    duplicate_rows: int = 0
    timings: dict = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return float(sum(self.timings.values()))


def _days_iso(d: np.ndarray) -> np.ndarray:
    return mess.format_dates(np.asarray(d, dtype=np.int64), "iso")


def _write_truth(world: World, truth: Truth, uke_truth: pd.DataFrame, out: Path) -> None:
    tdir = out / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    p = world.persons
    tid = p.set_index("pid")["true_person_id"]
    recs = pd.concat(truth.records + [uke_truth.rename(columns={"pid": "true_person_id"})], ignore_index=True)
    recs["true_person_id"] = tid.reindex(recs["true_person_id"].astype(np.int64)).to_numpy()
    recs.to_csv(tdir / "records.csv", index=False, lineterminator="\n")
    hh = world.households.set_index("hh")
    notes = p["notes"].copy()
    typo = p["pid"].isin(truth.typo_pids)
    notes[typo] = (notes[typo] + ";kana-typo").str.lstrip(";")
    nums = np.where(p["atena2"].ne(""), p["atena"] + ";" + p["atena2"], p["atena"])
    mother = np.where(p["mother_pid"] >= 0, tid.reindex(p["mother_pid"].clip(lower=0)).to_numpy(), "")
    persons = pd.DataFrame({
        "true_person_id": p["true_person_id"], "kind": p["kind"], "sex": p["sex"],
        "birth_date": _days_iso(p["birth"].to_numpy()),
        "household_true_id": hh["household_true_id"].reindex(p["hh"]).to_numpy(),
        "relation_in_household": p["relation"], "mother_true_id": mother,
        "in_registry": p["in_registry"].astype(int), "resident_numbers": nums,
        "nationality": p["nationality"],
        "moved_in_date": _days_iso(np.where(p["moved_in_date"] > p["birth"], p["moved_in_date"], -1)),
        "moved_out_date": _days_iso(p["moved_out_date"].to_numpy()), "notes": notes,
    })
    persons.to_csv(tdir / "persons.csv", index=False, lineterminator="\n")
    h = world.households
    hout = pd.DataFrame({"household_true_id": h["household_true_id"],
                         "latent_risk": h["risk"].map(lambda v: f"{v:.6f}"),
                         "district": h["district"], "town": h["town"]})
    for col in ("single_parent", "young_mother", "foreign", "step_family_change", "public_assistance"):
        hout[col] = h[col].astype(int)
    hout.to_csv(tdir / "households.csv", index=False, lineterminator="\n")
    c = world.custody
    pd.DataFrame({"true_person_id": tid.reindex(c["pid"]).to_numpy(), "on_list": 1, "kind": c["kind"],
                  "reason": c["reason"]}).to_csv(tdir / "custody.csv", index=False, lineterminator="\n")
    mal = pd.concat(truth.malformed, ignore_index=True) if truth.malformed else \
        pd.DataFrame(columns=["file", "line", "problem"])
    mal.to_csv(tdir / "malformed.csv", index=False, lineterminator="\n")
    dup = pd.concat(truth.duplicates, ignore_index=True) if truth.duplicates else \
        pd.DataFrame(columns=["file", "line", "duplicate_of_line"])
    dup.to_csv(tdir / "duplicates.csv", index=False, lineterminator="\n")


def generate_delivery(out_dir: Path, children: int = 13913, seed: int = 20240401,
                      as_of: dt.date = dt.date(2025, 3, 31), progress=None) -> GenerationSummary:
    """Write one delivery folder (all extracts, .UKE receipts, manifest.csv, chiku.geojson)
    and ``truth/`` for ``children`` registry children aged 0–6 on ``as_of``."""
    prog = ensure(progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = GenerationSummary(out_dir=out, children=children, seed=seed, as_of=as_of)
    t0 = time.perf_counter()
    world = build_world(children, seed, as_of, progress=prog.sub(0.0, 0.45))
    summary.timings["world"] = time.perf_counter() - t0
    writer_rngs = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, 7]).spawn(32)]
    truth = Truth()
    manifest = []
    t0 = time.perf_counter()
    for i, (source, build) in enumerate(extracts.WRITERS.items()):
        st = STYLES[source]
        summary.rows[st.file] = build(world, out, writer_rngs[i], truth)
        manifest.append({"ファイル名": st.file, "データ種別": st.kind,
                         "抽出日": mess.format_dates([world.asof - st.lag_days], "iso")[0],
                         "提供課": st.department})
        prog.step(0.45 + 0.35 * (i + 1) / len(extracts.WRITERS), f"{st.file} を書き出しました")
    summary.timings["extracts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    uke_manifest, uke_truth = write_uke(world, out, writer_rngs[30])
    manifest += uke_manifest
    summary.uke_files = len(uke_manifest)
    summary.receipts = len(world.receipts)
    summary.timings["uke"] = time.perf_counter() - t0
    prog.step(0.9, "レセプトを書き出しました")
    t0 = time.perf_counter()
    gj = build_geojson(world.geo.towns)
    (out / "chiku.geojson").write_text(json.dumps(gj, ensure_ascii=False, separators=(",", ":")),
                                       encoding="utf-8")
    manifest.append({"ファイル名": "chiku.geojson", "データ種別": "地区境界",
                     "抽出日": mess.format_dates([world.asof], "iso")[0], "提供課": "デジタル・ガバメント推進室"})
    man = pd.DataFrame(manifest)
    (out / "manifest.csv").write_bytes(
        (",".join(man.columns) + "\r\n" + "\r\n".join(man.astype(str).agg(",".join, axis=1)) + "\r\n")
        .encode("utf-8-sig"))
    _write_truth(world, truth, uke_truth, out)
    summary.timings["truth"] = time.perf_counter() - t0
    summary.persons = len(world.persons)
    summary.households = len(world.households)
    summary.custody_list = len(world.custody)
    summary.malformed_rows = int(sum(len(m) for m in truth.malformed))
    summary.duplicate_rows = int(sum(len(d) for d in truth.duplicates))
    prog.step(1.0, "生成が完了しました")
    return summary
