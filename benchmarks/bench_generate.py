"""Wall time and peak memory of ``generate_delivery`` for 13,913 and 200,000 children.

Run: ``/work/venv/bin/python benchmarks/bench_generate.py [N ...]``. Each size runs in a fresh
subprocess so the peak RSS (resource.getrusage) belongs to that size alone. Output goes to a
temporary folder that is deleted afterwards (synthetic data counts as person data).
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
from app.engine.synth import generate_delivery
n = int(sys.argv[1])
with tempfile.TemporaryDirectory() as d:
    t = time.perf_counter()
    s = generate_delivery(Path(d) / "out", children=n)
    wall = time.perf_counter() - t
    size = sum(p.stat().st_size for p in (Path(d) / "out").rglob("*") if p.is_file())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux -> MiB
print(json.dumps({"children": n, "wall_s": round(wall, 1), "peak_rss_mib": round(peak),
                  "persons": s.persons, "receipts": s.receipts, "output_mib": round(size / 2**20, 1),
                  "timings": {k: round(v, 1) for k, v in s.timings.items()}}))
"""


def main(sizes: list[int]) -> None:
    for n in sizes:
        res = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, check=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"{r['children']:>7} children: {r['wall_s']:6.1f} s, peak RSS {r['peak_rss_mib']} MiB, "
              f"{r['persons']} persons, {r['receipts']} receipts, {r['output_mib']} MiB written, "
              f"stages {r['timings']}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [13913, 200000])
