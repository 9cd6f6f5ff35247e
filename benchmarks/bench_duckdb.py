"""Rule evaluation: the pandas engine against the same rules compiled to SQL on DuckDB (issue 18).

    python benchmarks/bench_duckdb.py [--sizes 13913,50000] [--quick]
    python -m app bench --only bench_duckdb --sizes 13913,50000

One generated city per size (generator → read_delivery → process_delivery, the import's engine
path; files in a temporary folder deleted at the end: synthetic data counts as person data). Its
frames are pickled into that folder and every measurement runs in a fresh process, so each peak
memory figure is that engine's own. Per shipped rule set:

* ``pandas evaluate``: ``app.engine.scoring.evaluate`` without validation — every rule, reasons,
  evidence, scores: what the terminal runs;
* ``pandas, compiled rules``: EvalContext + the evaluators of only the rules the SQL compiler
  translates — the closest pandas figure (the evaluators also build reasons and evidence rows,
  which the SQL does not);
* ``duckdb frames``: ``app.engine.rules.sql.evaluate_frames`` over the same in-memory frames,
  compile + execute + fetch (DuckDB's default threads = cores; one row with 1 thread);
* ``duckdb parquet``: ``evaluate_parquet`` over Parquet files of the same frames — the prefecture
  path: the process never holds the frames in pandas.

``same_result`` compares, per compiled flag rule, the set of flagged children (a digest of the
sorted ids) of each DuckDB row with the pandas row; ``differs`` lists the rules that do not match.
Peak MB = the measuring process's peak RSS (VmHWM); ``eval_mb`` = peak minus the RSS just before evaluating.
The load average is in every row: on a shared machine wall time also measures the queue.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZED = True
BASE = 13913
# Largest city generated whole; above it the base city is tiled (generating 200,000 children and
# linking them needs ~10 GB before any rule runs, see docs/SCALE.md)
GENERATED_MAX = 50000
# Above GENERATED_MAX each measuring process gets this address-space limit (GiB): a pandas run
# that would not fit fails with MemoryError and is reported so, instead of pushing the shared
# machine into swap (the city is built in a process of its own, so the whole job stays < 8 GB).
LARGE_LIMIT_GB = 7.0
RULESETS = ("report_2023", "improved", "postpartum")
ENGINES = ("pandas evaluate", "pandas, compiled rules", "duckdb frames", "duckdb parquet")
MARK = "@@DUCK@@"


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """This program's peak RSS (VmHWM). Not ru_maxrss: Linux carries the forking parent's peak
    across exec into it, so a child started by a process holding a city would report the parent's."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _digests(matrix) -> dict[str, list]:
    """Per rule: (flagged count, sha1 of the sorted flagged ids) — compared across processes."""
    out = {}
    for rid in matrix.columns:
        ids = sorted(map(str, matrix.index[matrix[rid].to_numpy(bool)]))
        out[rid] = [len(ids), hashlib.sha1("\n".join(ids).encode()).hexdigest()]
    return out


def _frames(children: int, folder: Path):
    from app.engine.ingest.delivery import read_delivery
    from app.engine.ingest.linked import process_delivery
    from app.engine.pseudonyms import Keyer
    from app.engine.synth import generate_delivery

    generate_delivery(folder / "delivery", children=children)
    pr = process_delivery(read_delivery(folder / "delivery"), Keyer(b"bench-duckdb-key-0123456789abcdef"),
                          rng=np.random.default_rng(0))
    events = pr.events.copy()
    events.insert(0, "event_id", np.arange(1, len(events) + 1, dtype=np.int64))
    return pr.persons, events, pr.relations, pr.as_of


def build_tiled(children: int, folder: Path) -> dict:
    """Above GENERATED_MAX: the demo-size city repeated with fresh ids (as bench_score does), one
    Parquet part per copy, so this process never holds more than one copy beside the base."""
    t = time.perf_counter()
    persons, events, relations, as_of = _frames(BASE, folder)
    copies = max(1, round(children / BASE))
    ids = {"persons": ["person_id", "household_id", "mother_id"], "events": ["person_id", "household_id"],
           "relations": ["person_id", "related_id"]}
    n_events = 0
    for name, frame in (("persons", persons), ("events", events), ("relations", relations)):
        (folder / name).mkdir()
        for k in range(copies):
            f = frame.copy()
            for c in ids[name]:
                col = f[c].fillna("").astype(str)
                f[c] = np.where(col != "", col + f"-{k}", "")
            if name == "events":
                f["event_id"] = np.arange(1, len(f) + 1, dtype=np.int64) + k * len(f)
                n_events += len(f)
            f.to_parquet(folder / name / f"part-{k:03d}.parquet", index=False)
            del f
    (folder / "as_of.txt").write_text(str(pd_date(as_of)), "ascii")
    return {"events": n_events, "persons": len(persons) * copies, "build_s": time.perf_counter() - t,
            "tiled": f"the {BASE:,}-child city × {copies}"}


def pd_date(as_of) -> str:
    return str(as_of.date() if hasattr(as_of, "date") else as_of)


def build_city(children: int, folder: Path) -> dict:
    """Generate a city, run the import's engine path, pickle the frames and write Parquet copies."""
    if children > GENERATED_MAX:
        return build_tiled(children, folder)
    t = time.perf_counter()
    frames = _frames(children, folder)
    with open(folder / "frames.pkl", "wb") as f:
        pickle.dump(frames, f, protocol=pickle.HIGHEST_PROTOCOL)
    for name, frame in zip(("persons", "events", "relations"), frames):
        (folder / name).mkdir()
        frame.to_parquet(folder / name / "part-000.parquet", index=False)
    (folder / "as_of.txt").write_text(pd_date(frames[3]), "ascii")
    return {"events": len(frames[1]), "persons": len(frames[0]), "build_s": time.perf_counter() - t}


def _pandas_compiled(persons, events, relations, ruleset, as_of, compiled_ids):
    """The pandas evaluators of only the compiled rules, in the engine's order (combine last)."""
    import pandas as pd

    from app.engine.rules.context import EvalContext
    from app.engine.rules.evaluators import EVALUATORS

    ctx = EvalContext(persons, events, relations, as_of)
    ctx.set_all_persons(persons)
    ctx.labels = {r.id: r.label for r in ruleset.rules}
    rules = [r for r in ruleset.rules if r.id in compiled_ids]
    for rule in [r for r in rules if r.kind != "combine"] + [r for r in rules if r.kind == "combine"]:
        ctx.outputs[rule.id] = EVALUATORS[rule.kind](ctx, rule)
    return pd.DataFrame({r.id: ctx.outputs[r.id].flag for r in rules if r.role == "flag"}, index=ctx.pos)


def _load_frames(folder: Path):
    if (folder / "frames.pkl").exists():
        with open(folder / "frames.pkl", "rb") as f:
            return pickle.load(f)
    import pandas as pd

    return (*(pd.read_parquet(folder / name) for name in ("persons", "events", "relations")), _as_of(folder))


def measure(engine: str, ruleset_name: str, folder: Path, threads: int | None, limit_gb: float = 0) -> dict:
    """One engine on one rule set, in this (fresh) process."""
    memory_limit = None
    if limit_gb:
        resource.setrlimit(resource.RLIMIT_AS, (int(limit_gb * 2**30),) * 2)
        memory_limit = f"{limit_gb * 0.8:.1f}GB"  # DuckDB's own buffer limit, below the process's
    from app.engine.rules import shipped_ruleset
    from app.engine.rules import sql as rsql

    ruleset = shipped_ruleset(ruleset_name)
    out: dict = {}
    if engine == "duckdb parquet":
        import duckdb  # noqa: F401  (imported before the clock starts, as pandas is)

        before = _rss_mb()
        t, c = time.perf_counter(), time.process_time()
        res = rsql.evaluate_parquet(*(str(folder / name / "*.parquet") for name in ("persons", "events", "relations")),
                                    ruleset, _as_of(folder), threads=threads, memory_limit=memory_limit)
    else:
        persons, events, relations, as_of = _load_frames(folder)
        if engine.startswith("duckdb"):
            import duckdb  # noqa: F401,F811
        else:
            import sklearn.linear_model  # noqa: F401  (scoring imports it; not part of the evaluation)
        before = _rss_mb()
        t, c = time.perf_counter(), time.process_time()
        if engine == "duckdb frames":
            res = rsql.evaluate_frames(persons, events, relations, ruleset, as_of, threads=threads,
                                       memory_limit=memory_limit)
        elif engine == "pandas evaluate":
            from app.engine.scoring import evaluate

            res = evaluate(persons, events, relations, ruleset, as_of, validate=False)
        else:
            compiled = rsql.compile_ruleset(ruleset, as_of)
            res = _pandas_compiled(persons, events, relations, ruleset, as_of, set(compiled.rules))
    out["seconds"], out["cpu_seconds"] = time.perf_counter() - t, time.process_time() - c
    out["peak_mb"], out["eval_mb"] = _peak_mb(), _peak_mb() - before
    if engine.startswith("duckdb"):
        out["digests"] = _digests(res.matrix)
        out["not_compiled"] = sorted(res.not_compiled)
        out["children"] = int(len(res.matrix))
        out["threads"] = res.threads
        out["phases"] = {k: round(v, 3) for k, v in res.seconds.items()}
    else:
        matrix = res.matrix if hasattr(res, "matrix") else res
        out["digests"] = _digests(matrix)
        out["children"] = int(len(matrix))
    return out


def _as_of(folder: Path) -> str:
    """The city's as-of date (the registry's 抽出日), written next to its files."""
    return (folder / "as_of.txt").read_text("ascii").strip()


def _child(engine: str, ruleset_name: str, folder: Path, threads: int | None, timeout: float,
           limit_gb: float = 0) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", engine, ruleset_name, str(folder),
           str(threads or 0), str(limit_gb)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT), env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(res.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    lines = (res.stderr or res.stdout or "no output").strip().splitlines()
    last = lines[-1][:200] if lines else ""
    if "MemoryError" in (res.stderr or "") and limit_gb:
        last = f"MemoryError: did not fit in {limit_gb} GiB of address space ({last})"
    return {"error": f"exit {res.returncode}: {last}"}


def _child_build(size: int, folder: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--build", str(size), str(folder)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), env=env, check=False)
    for line in reversed(res.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"building the city failed: {(res.stderr or res.stdout).strip().splitlines()[-1:]}")


def _compare(reference: dict, got: dict) -> tuple[bool, list[str]]:
    """Same flagged children per compiled flag rule (the rules both rows have)."""
    common = sorted(set(reference["digests"]) & set(got["digests"]))
    differs = [rid for rid in common if reference["digests"][rid] != got["digests"][rid]]
    return (not differs and bool(common)), differs


def _plan(quick: bool, size: int):
    if size > GENERATED_MAX:
        # the like-for-like pair only: the terminal's full evaluate at this size is bench_score's
        return [(rs, e, None) for rs in RULESETS for e in ("pandas, compiled rules", "duckdb parquet")]
    if quick:
        return [("improved", e, None) for e in ("pandas, compiled rules", "duckdb frames", "duckdb parquet")]
    plan = [(rs, e, None) for rs in RULESETS for e in ENGINES]
    plan.insert(plan.index(("improved", "duckdb frames", None)) + 1, ("improved", "duckdb frames", 1))
    return plan


def run(size: int | None, quick: bool) -> list[dict]:
    size = 300 if quick else (size or BASE)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mimamori-bench-duckdb-") as tmp:
        folder = Path(tmp)
        if size > GENERATED_MAX:
            # built in its own process too, so this one stays small while the engines run
            city = _child_build(size, folder)
        else:
            city = build_city(size, folder)
        limit = LARGE_LIMIT_GB if size > GENERATED_MAX else 0
        results: dict = {}
        for ruleset_name, engine, threads in _plan(quick, size):
            load = round(os.getloadavg()[0], 2)
            got = _child(engine, ruleset_name, folder, threads, timeout=900, limit_gb=limit)
            key = (ruleset_name, engine, threads)
            results[key] = got
            name = f"{engine} {ruleset_name}" + (f" ({threads} thread)" if threads else "")
            if "error" in got:
                rows.append({"name": name, "size": size, "seconds": None, "peak_mb": None, "note": got["error"],
                             "status": "failed", "load_average_1min": load})
                continue
            row = {"name": name, "size": got["children"], "seconds": round(got["seconds"], 3),
                   "cpu_seconds": round(got["cpu_seconds"], 3), "peak_mb": round(got["peak_mb"], 1),
                   "eval_mb": round(got["eval_mb"], 1), "load_average_1min": load,
                   "flagged": {rid: d[0] for rid, d in got["digests"].items()}}
            note = f"{city['events']:,} events, {city['persons']:,} persons" + (f" ({city['tiled']})" if "tiled" in city else "")
            if engine.startswith("duckdb"):
                ref = results.get((ruleset_name, "pandas, compiled rules", None))
                same, differs = _compare(ref, got) if ref and "error" not in ref else (None, [])
                row.update(same_result=same, differs=differs, threads=got["threads"], phases=got["phases"],
                           not_compiled=got["not_compiled"])
                note += (f"; {len(got['digests'])} rules compiled, same flags as pandas: {same}"
                         + (f" (differs: {', '.join(differs)})" if differs else "")
                         + f"; not compiled: {', '.join(got['not_compiled']) or 'none'}; DuckDB threads: {got['threads']}")
            else:
                note += f"; {len(got['digests'])} flag rules"
            row["note"] = note + f"; load {load}"
            rows.append(row)
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--build":
        print(MARK + json.dumps(build_city(int(sys.argv[2]), Path(sys.argv[3]))), flush=True)
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        engine, ruleset_name, folder, threads = sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])
        limit = float(sys.argv[6]) if len(sys.argv) > 6 else 0
        print(MARK + json.dumps(measure(engine, ruleset_name, folder, threads or None, limit)), flush=True)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="13913,50000")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    every = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for r in run(size, args.quick):
            every.append(r)
            secs = f"{r['seconds']:8.2f} s" if r["seconds"] is not None else "       —"
            print(f"{r['name']:42s} {r['size']:>8,} {secs} peak {r['peak_mb'] or 0:7.0f} MB "
                  f"eval {r.get('eval_mb') or 0:7.0f} MB  {r['note']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(every, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
