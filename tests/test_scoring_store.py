"""Scoring runs in the store: rule sets versioned, runs never overwritten, evidence rows,
role-checked reads (score only with VIEW_SCORE, custody-derived only for cg_manager),
run comparison, the flags export and the score/calibrate commands."""

import json

import pandas as pd
import pytest

from app.store.database import transaction
from conftest import PASSWORD, open_as


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from app.engine.synth import generate_delivery
    from app.store.accounts import add_user
    from app.store.importing import import_delivery
    from app.store.opening import create_store

    base = tmp_path_factory.mktemp("scoring")
    generate_delivery(base / "delivery", children=300, seed=7)
    admin = create_store(base / "store.db", "admin", PASSWORD)
    import_delivery(admin, base / "delivery")
    add_user(admin, "nurse", "nurse", PASSWORD, areas=["中央"])
    add_user(admin, "manager", "cg_manager", PASSWORD)
    from app.store.scoring_runs import run_active_rulesets
    run_active_rulesets(admin)
    admin.close()
    return base / "store.db"


@pytest.fixture
def admin(store):
    s = open_as(store, "admin")
    yield s
    s.close()


@pytest.fixture
def nurse(store):
    s = open_as(store, "nurse")
    yield s
    s.close()


@pytest.fixture
def manager(store):
    s = open_as(store, "manager")
    yield s
    s.close()


def test_runs_stored_per_target_with_rule_set_and_as_of(admin):
    from app.store.scoring_runs import load_run

    abuse, post = load_run(admin.conn, target="abuse"), load_run(admin.conn, target="postpartum")
    assert abuse["ruleset_id"] == "improved" and post["ruleset_id"] == "postpartum"
    assert abuse["as_of"] == "2025-03-31"
    assert "jumin" in abuse["source_as_of"] and abuse["children"] > 250
    # Every evaluated child has a score; only the flags that fired are stored, one row each.
    scored = admin.conn.execute("SELECT COUNT(*) FROM scores WHERE run_id=?", (abuse["run_id"],)).fetchone()[0]
    assert scored == abuse["children"]
    rows, fired = admin.conn.execute("SELECT COUNT(*), SUM(flagged) FROM flags WHERE run_id=?",
                                     (abuse["run_id"],)).fetchone()
    assert 0 < rows == fired < abuse["children"] * len(abuse["weights"])
    assert abuse["flagged"] == admin.conn.execute(
        "SELECT COUNT(DISTINCT person_id) FROM flags WHERE run_id=?", (abuse["run_id"],)).fetchone()[0]


def test_runs_are_never_overwritten(admin):
    from app.store.scoring_runs import load_run
    run = load_run(admin.conn, target="abuse")
    with pytest.raises(Exception, match="never overwritten"):
        with transaction(admin.conn):
            admin.conn.execute("UPDATE runs SET as_of='2000-01-01' WHERE run_id=?", (run["run_id"],))


def test_every_trigger_points_at_a_real_event_of_the_child_or_family(admin):
    from app.store.scoring_runs import load_run
    run = load_run(admin.conn, target="abuse")
    bad = admin.conn.execute(
        "SELECT COUNT(*) FROM evidence e LEFT JOIN events v ON v.event_id = e.event_id"
        " WHERE e.run_id=? AND v.event_id IS NULL", (run["run_id"],)).fetchone()[0]
    assert bad == 0
    # flagged rules with triggers: the trigger's date lies within the flag's first/last dates
    rows = admin.conn.execute(
        "SELECT f.first_date, f.last_date, MIN(v.date), MAX(v.date) FROM flags f"
        " JOIN evidence e ON e.run_id=f.run_id AND e.person_id=f.person_id AND e.rule_id=f.rule_id AND e.role='trigger'"
        " JOIN events v ON v.event_id=e.event_id WHERE f.run_id=? AND f.flagged=1"
        " GROUP BY f.person_id, f.rule_id", (run["run_id"],)).fetchall()
    assert rows
    assert all(r[0] == r[2][:10] and r[1] == r[3][:10] for r in rows)


def test_nurse_sees_reasons_in_her_area_but_no_score_and_no_custody(nurse, manager):
    from app.store.queries import scores
    from app.store.roles import AccessDenied

    f = scores.run_flags(nurse)
    assert len(f) and (f["reason"] != "").all()
    district = dict(nurse.conn.execute("SELECT person_id, district FROM persons").fetchall())
    from app.store.areas import expand
    assert set(f["person_id"].map(district)) <= set(expand(["中央"]))
    assert "sibling_custody" not in set(f["rule_id"])
    with pytest.raises(AccessDenied):
        scores.run_scores(nurse)
    with pytest.raises(AccessDenied):
        scores.run_metrics(nurse)
    assert "on_custody_list" not in scores.run_follow_state(nurse).columns
    # the manager sees the whole city, the numbers and the custody-derived rule
    assert len(scores.run_scores(manager)) > f["person_id"].nunique()
    m = scores.run_metrics(manager)
    assert m["metrics"]["children"] > 0
    assert "on_custody_list" in scores.run_follow_state(manager).columns


def test_child_evidence_lists_source_rows(manager):
    from app.store.queries import scores
    f = scores.run_flags(manager)
    # Some flags have no rows behind them by nature (a vaccine never given leaves no event),
    # so look for the first flagged child whose flags rest on event rows.
    ev = None
    for pid in f["person_id"].unique()[:300]:
        ev = scores.child_evidence(manager, pid)
        if len(ev):
            break
    assert ev is not None and len(ev) and {"rule_id", "role", "source", "date", "type"} <= set(ev.columns)
    assert set(ev["rule_id"]) <= set(f.loc[f["person_id"] == pid, "rule_id"])


def test_compare_runs_after_new_rule_set_version(admin, manager):
    from app.store.queries import scores
    from app.store.scoring_runs import load_run, load_ruleset, run_scoring, store_ruleset

    before = load_run(admin.conn, target="abuse")
    text = load_ruleset(admin.conn, "improved").source_text.replace(
        'id = "recent_move_in"\nlabel = "最近の転入"\nkind = "events"', 'id = "recent_move_in"\nlabel = "最近の転入"\nkind = "events"', 1)
    text = text.replace("weight = 0.5\ndisclosure = \"discuss\"\ncontact_pretext = \"転入後",
                        "weight = 5.0\ndisclosure = \"discuss\"\ncontact_pretext = \"転入後")
    rid, ver = store_ruleset(admin, text, activate=True)
    assert ver == before["ruleset_version"] + 1
    [after_id] = run_scoring(admin, target="abuse")
    assert load_run(admin.conn, before["run_id"])["ruleset_version"] == before["ruleset_version"]
    diff = scores.compare(manager, before["run_id"], after_id, top_k=30)
    assert diff["entered"] or diff["left"]
    assert set(diff["entered"]).isdisjoint(diff["left"])


def test_flags_export_frame(manager, admin):
    from app.store.queries import scores
    f = scores.flags_export_frame(manager)
    assert {"research_id", "district", "age_months", "vaccination", "score", "follow_up"} <= set(f.columns)
    assert set(f["vaccination"].unique()) <= {0, 1}
    g = scores.flags_export_frame(admin)  # data_admin: no VIEW_SCORE, no custody
    assert "score" not in g.columns and "sibling_custody" not in g.columns


def test_score_and_calibrate_commands(store, capsys, monkeypatch):
    from app.commands import main
    monkeypatch.setenv("MIMAMORI_PASSWORD", PASSWORD)
    assert main(["score", "--db", str(store), "--user", "admin", "--target", "postpartum", "--no-validate"]) == 0
    assert "run" in capsys.readouterr().out
    assert main(["calibrate", "--db", str(store), "--user", "admin", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ruleset"]["target"] == "abuse" and "thresholds" in out and "flag_counts" in out
    assert main(["score", "--db", str(store), "--user", "nurse"]) == 3


def test_export_flags_command_plaintext(store, tmp_path, monkeypatch, capsys):
    from app.commands import main
    from app.store.terminals import register_terminal

    s = open_as(store, "admin")
    try:
        register_terminal(s)
    finally:
        s.close()
    monkeypatch.setenv("MIMAMORI_PASSWORD", PASSWORD)
    out = tmp_path / "flags.csv"
    assert main(["export", "--db", str(store), "--user", "manager", "--what", "flags", "--out", str(out),
                 "--plaintext"]) == 0
    frame = pd.read_csv(out, comment="#", dtype={"research_id": str})
    assert {"research_id", "district", "age_months", "vaccination", "score", "follow_up"} <= set(frame.columns)
    assert frame["research_id"].is_unique and len(frame) > 250


def test_compact_events_are_the_events(admin):
    """The scoring load (categorical text, chunked, '{}' attrs fetched as NULL) holds exactly
    what events_frame holds, row for row, chunk boundaries included."""
    from app.store import frames

    plain = frames.events_frame(admin.conn)[frames.SCORING_EVENT_COLUMNS]
    compact = frames.scoring_events_frame(admin.conn, chunk_rows=997)
    assert isinstance(compact["person_id"].dtype, pd.CategoricalDtype)
    assert (compact["attrs"] == "{}").any()
    expanded = compact.astype({c: object for c in compact.columns if isinstance(compact[c].dtype, pd.CategoricalDtype)})
    plain = plain.assign(source_line=pd.to_numeric(plain["source_line"]).astype(float))
    pd.testing.assert_frame_equal(expanded, plain)
    some = frames.scoring_events_frame(admin.conn, types=["epds", "custody"])
    assert set(some["type"]) == {"epds", "custody"}
    assert len(some) == int(plain["type"].isin(["epds", "custody"]).sum())
    # columns read for some types only: those rows as they are, the others blank
    part = frames.scoring_events_frame(admin.conn, only={"household_id": {"epds"}, "source_line": set()},
                                       chunk_rows=1009)
    mine = (part["type"] == "epds").to_numpy()
    assert mine.any() and (part["household_id"].astype(object).to_numpy()[mine] ==
                           plain["household_id"].to_numpy()[mine]).all()
    assert (part["household_id"].astype(object).to_numpy()[~mine] == "").all()
    assert part["source_line"].isna().all()
    rest = [c for c in frames.SCORING_EVENT_COLUMNS if c not in ("household_id", "source_line")]
    pd.testing.assert_frame_equal(part[rest].astype({c: object for c in rest if isinstance(part[c].dtype, pd.CategoricalDtype)}),
                                  plain[rest])


def test_shared_context_over_read_types_scores_like_all_events(admin):
    """A run prepares the children and events once, loading only the event types its rule sets
    read (scoring.events_read): every rule set scores exactly as over the full events frame."""
    from app.engine.rules import shipped_ruleset
    from app.engine.rules.context import EvalContext
    from app.engine.scoring import columns_read, evaluate, events_read
    from app.store import frames

    conn = admin.conn
    persons, events, relations = frames.persons_frame(conn), frames.events_frame(conn), frames.relations_frame(conn)
    sets = [shipped_ruleset(n) for n in ("report_2023", "improved", "postpartum")]
    read = events_read(sets)
    assert not set(events["type"]) <= read  # some types are really left out
    only = columns_read(sets)
    assert only["household_id"] == {"public_assistance"} and "checkup" in only["source_file"]
    ctx = EvalContext(persons, frames.scoring_events_frame(conn, types=read, only=only), relations, "2025-03-31")
    # without report_2023's cohort percentiles nobody reads where a measurement came from
    assert columns_read(sets[1:])["source_line"] == set()
    lean = EvalContext(persons, frames.scoring_events_frame(conn, types=events_read(sets[1:]),
                                                            only=columns_read(sets[1:])), relations, "2025-03-31")
    for rs in sets[1:]:
        a = evaluate(persons, events, relations, rs, "2025-03-31", validate=False)
        b = evaluate(None, None, None, rs, "2025-03-31", validate=False, context=lean)
        pd.testing.assert_frame_equal(a.flags, b.flags, obj=f"{rs.id}.flags (lean)")
        pd.testing.assert_frame_equal(a.evidence, b.evidence, obj=f"{rs.id}.evidence (lean)")
    for rs in sets:
        a = evaluate(persons, events, relations, rs, "2025-03-31", validate=False)
        b = evaluate(None, None, None, rs, "2025-03-31", validate=False, context=ctx)
        for part in ("flags", "evidence", "scores", "follow", "matrix", "values", "children"):
            pd.testing.assert_frame_equal(getattr(a, part), getattr(b, part), obj=f"{rs.id}.{part}")
        assert a.metrics == b.metrics


def test_whole_persons_frame_is_the_row_fetch(admin):
    """persons_frame without a filter reads columns (and may use a second reader); it holds
    exactly what the row fetch holds: values, dtypes, NULL dates, order."""
    from app.store import frames
    from app.store.database import connect

    some = admin.conn.execute("SELECT person_id FROM persons").fetchall()
    fetched = frames.persons_frame(admin.conn, person_ids=[r[0] for r in some])  # the row fetch
    for second in (None, lambda: connect(admin.db_path, admin.db_key, 8)):
        whole = frames.persons_frame(admin.conn, second=second)
        pd.testing.assert_frame_equal(whole, fetched)
    assert fetched["resident_to"].isna().any() and fetched["moved_in"].dtype == bool


def test_household_assistance_is_read_through_its_partial_index(admin):
    """The timeline's household row: one household's public assistance, the same rows and order
    as filtering every public-assistance event, found through the small partial index."""
    from app.store import frames

    every = frames.events_frame(admin.conn, types=["public_assistance"])
    households = every["household_id"].unique()
    assert len(households) >= 2
    for hh in households[:5]:
        one = frames.household_assistance_frame(admin.conn, hh)
        pd.testing.assert_frame_equal(one, every[every["household_id"] == hh].reset_index(drop=True))
    assert frames.household_assistance_frame(admin.conn, "no-such-household").empty
    plan = admin.conn.execute("EXPLAIN QUERY PLAN SELECT * FROM events WHERE type = 'public_assistance'"
                              " AND household_id = ?", ("x",)).fetchall()
    assert "events_household_assistance" in str(plan)
