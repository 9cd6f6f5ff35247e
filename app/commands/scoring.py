"""``python -m app score`` and ``python -m app calibrate``.

score      runs the active rule set of every target (or ``--target``) and stores a run each;
           ``--ruleset FILE`` stores that rule set as a new version first (data_admin) and
           scores it; ``--activate`` makes it the default for its target.
calibrate  prints mode-method thresholds, logistic-regression weights and held-out metrics
           for a rule set (``--json`` for machines); nothing is changed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.commands.errors import CommandError
from app.commands.session_args import add_login_args, denied, open_session


def register(sub) -> None:
    p = sub.add_parser("score", help="run the active rule sets and store a scoring run")
    add_login_args(p)
    p.add_argument("--target", choices=["abuse", "postpartum"], help="only this target")
    p.add_argument("--as-of", help="count ages and windows at this date (default: the registry's 抽出日)")
    p.add_argument("--ruleset", type=Path, help="a rule set TOML file to store and score")
    p.add_argument("--activate", action="store_true", help="make --ruleset the active one for its target")
    p.add_argument("--no-validate", action="store_true", help="skip held-out validation metrics")
    p.set_defaults(func=run_score)

    c = sub.add_parser("calibrate", help="mode-method thresholds, logistic weights and validation")
    add_login_args(c)
    c.add_argument("--target", choices=["abuse", "postpartum"], default="abuse")
    c.add_argument("--ruleset", help="stored rule set id (default: the active one), or a TOML file path")
    c.add_argument("--as-of")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=run_calibrate)


def _ruleset_from(session, spec: str | None, target: str):
    from app.engine.rules import RuleSetError, load_ruleset
    from app.store import scoring_runs

    if spec and Path(spec).exists():
        try:
            return load_ruleset(spec)
        except RuleSetError as exc:
            raise CommandError(str(exc)) from None
    if spec:
        try:
            return scoring_runs.load_ruleset(session.conn, spec)
        except KeyError:
            raise CommandError(f"rule set {spec} がありません") from None
    active = [r for r in scoring_runs.active_rulesets(session.conn) if r.target == target]
    if active:
        return active[0]
    from app.engine.rules import shipped_ruleset
    return shipped_ruleset("improved" if target == "abuse" else "postpartum")


def run_score(args) -> int:
    from app.engine.progress import Progress
    from app.engine.rules import RuleSetError
    from app.store import scoring_runs
    from app.store.roles import AccessDenied

    session = open_session(args)
    try:
        ruleset = None
        if args.ruleset:
            try:
                text = args.ruleset.read_text(encoding="utf-8")
                rid, ver = scoring_runs.store_ruleset(session, text, activate=args.activate)
            except RuleSetError as exc:
                raise CommandError(str(exc)) from None
            ruleset = scoring_runs.load_ruleset(session.conn, rid, ver)
        progress = Progress(lambda f, m: print(f"\r{int(f * 100):3d}% {m}", end="", file=sys.stderr))
        ids = scoring_runs.run_scoring(session, target=args.target, as_of=args.as_of, ruleset=ruleset,
                                       progress=progress, validate=not args.no_validate)
        print(file=sys.stderr)
        for run_id in ids:
            run = scoring_runs.load_run(session.conn, run_id)
            print(f"run {run_id}: {run['target']} {run['ruleset_id']}@{run['ruleset_version']} as of {run['as_of']}:"
                  f" {run['children']} 人中 {run['flagged']} 人に該当あり")
    except AccessDenied as exc:
        raise denied(exc) from None
    finally:
        session.close()
    return 0


def run_calibrate(args) -> int:
    import pandas as pd

    from app.engine.scoring import calibrate
    from app.store import frames, roles, scoring_runs
    from app.store.roles import AccessDenied

    session = open_session(args)
    try:
        session.require(roles.RUN_SCORING)
        rs = _ruleset_from(session, args.ruleset, args.target)
        conn = session.conn
        at = pd.Timestamp(args.as_of) if args.as_of else scoring_runs.data_as_of(conn)
        out = calibrate(frames.persons_frame(conn), frames.events_frame(conn), frames.relations_frame(conn), rs, at)
        from app.store.database import transaction
        with transaction(conn):
            session.audit("calibrate", "ruleset", [f"{rs.id}@{rs.version}"], {"as_of": str(at.date())})
    except AccessDenied as exc:
        raise denied(exc) from None
    finally:
        session.close()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1, default=_json_default))
    else:
        _print_human(out)
    return 0


def _json_default(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def _print_human(out: dict) -> None:
    print(f"{out['ruleset']['id']}@{out['ruleset']['version']} as of {out['as_of']}: "
          f"{out['children']} 人 (リスト {out['list_children']} 人)")
    for t in out["thresholds"]:
        print(f"  閾値 {t['rule_id']}: {t['method']} {t['op']} {t['value']} — {t['message']}")
    w = out.get("weights", {})
    if "coefficients" in w:
        print(f"  重み (C={w['C']:.3g}, CV AUC {w['cv_auc_mean']:.3f}±{w['cv_auc_sd']:.3f}):")
        for k, v in w["coefficients"].items():
            print(f"    {k}: {v:+.3f}")
    v = out.get("validation_fitted_weights", {})
    if v.get("status") == "ok":
        print(f"  検証 AUC {v['auc']:.3f} (95% CI {v['auc_ci95'][0]:.3f}–{v['auc_ci95'][1]:.3f}),"
              f" 関連スコア AUC {v['score_auc']:.3f}")
        for t in v["top_k"]:
            print(f"    上位{t['k']}人: 適合率 {t['precision']:.2f} 再現率 {t['recall']:.2f}")
