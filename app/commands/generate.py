"""``python -m app generate OUT``: write a synthetic delivery (extracts + truth/) to OUT."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from app.commands.errors import CommandError


def register(subparsers) -> None:
    p = subparsers.add_parser("generate", help="write a synthetic municipality delivery to OUT")
    p.add_argument("out", type=Path, help="output folder (created; truth/ is written inside)")
    p.add_argument("--children", type=int, default=13913, help="children aged 0–6 (default 13913)")
    p.add_argument("--seed", type=int, default=20240401, help="random seed (default 20240401)")
    p.add_argument("--as-of", dest="as_of", default="2025-03-31", help="as-of date YYYY-MM-DD")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.engine.synth import generate_delivery

    try:
        as_of = dt.date.fromisoformat(args.as_of)
    except ValueError:
        raise CommandError(f"--as-of must be YYYY-MM-DD, got {args.as_of!r}")
    if args.children < 10:
        raise CommandError("--children must be at least 10")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise CommandError(f"{out} is not empty; choose a new folder")
    try:
        s = generate_delivery(out, children=args.children, seed=args.seed, as_of=as_of)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc}")
    print(f"generated {s.children} children ({s.persons} persons, {s.households} households, "
          f"{s.custody_list} on the custody list, {s.uke_files} UKE files) in {out} "
          f"in {s.total_seconds:.1f} s")
    return 0
