"""The rule-set model: what a rule set file says, checked once when it is loaded.

A rule set is TOML (read with tomllib)::

    [ruleset]
    id = "improved"          # stable id
    version = 3              # the store keeps every version; runs record id + version
    target = "abuse"         # or "postpartum": each target has its own score
    title = "..."

    [[rule]]
    id = "epds"              # stable id (export columns, evidence, comparisons)
    label = "母のEPDS高得点"   # Japanese, shown to users
    kind = "events"          # evaluator, see app/engine/rules/evaluators.py
    weight = 1.0             # score = Σ weight × flag
    subject = "mother"       # whose events: self, mother, guardians, siblings, household
    event_types = ["epds"]
    age_months = [0, 83]     # child's age now (calendar months), inclusive; or age_years
    ...kind-specific keys...

Keys unknown to a kind are an error, so a typo never silently turns a rule off.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.resource_files import resource_path

KINDS = {
    # kind -> allowed kind-specific keys
    "events": {"event_types", "subject", "where", "aggregate", "window_months", "age_at_event_months",
               "age_at_event_years", "since_resident", "for_child"},
    "cumulative_count": {"event_types", "where", "band"},
    "checkup_by_age": {"event_types", "band"},
    "cohort_percentile": {"measure", "basis", "band"},
    "due_checkups": {"event_types", "due", "grace_months", "kinds"},
    "vaccine_schedule": {"grace_months", "statuses", "vaccines", "min_vaccines"},
    "growth": {"measure", "op", "value", "min_age_months", "window_months"},
    "young_mother": {"max_age_years"},
    "combine": {"all", "any", "none"},
}
COMMON = {"id", "label", "kind", "weight", "age_months", "age_years", "role", "restricted",
          "disclosure", "description", "calibrate", "threshold_text", "contact_pretext"}
SUBJECTS = {"self", "mother", "guardians", "siblings", "household"}
OPS = {">=", ">", "<=", "<", "==", "!=", "in", "not_in", "between"}


class RuleSetError(ValueError):
    """A rule set file that cannot be used; the message says where and why (Japanese)."""


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    kind: str
    weight: float
    params: dict[str, Any]
    age_ranges: tuple[tuple[int, int], ...] = ()  # child's age now, months, inclusive
    role: str = "flag"           # "flag" (scored, shown) or "fact" (only feeds combine rules)
    restricted: str | None = None  # "custody": derived from child-guidance data (cg_manager only)
    disclosure: str = "staff"     # discuss / staff / never: what staff may say to the family
    description: str = ""
    calibrate: bool = False       # threshold re-estimated by the mode method

    def get(self, key: str, default=None):
        return self.params.get(key, default)


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: int
    target: str
    title: str
    rules: tuple[Rule, ...]
    source_text: str = field(default="", repr=False)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    @property
    def flag_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.role == "flag")

    def with_weights(self, weights: dict[str, float]) -> "RuleSet":
        """A copy with new weights (e.g. from calibration), same id, version + 1."""
        rules = tuple(Rule(**{**r.__dict__, "weight": float(weights.get(r.id, r.weight))})
                      for r in self.rules)
        return RuleSet(self.id, self.version + 1, self.target, self.title, rules, self.source_text)

    def with_params(self, rule_id: str, **params) -> "RuleSet":
        """A copy where one rule's kind-specific parameters are replaced (thresholds)."""
        rules = tuple(Rule(**{**r.__dict__, "params": {**r.params, **params}}) if r.id == rule_id else r
                      for r in self.rules)
        return RuleSet(self.id, self.version, self.target, self.title, rules, self.source_text)


def _ranges(value, key: str, where: str, scale: int) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)):
        value = [value]
    out = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise RuleSetError(f"{where}: {key} は [下限, 上限] またはそのリストで指定してください")
        lo, hi = pair
        # years are whole years: [2, 3] means 24..47 months
        out.append((int(lo) * scale, int(hi) * scale + (scale - 1)))
    return tuple(out)


def age_ranges_of(spec: dict, where: str) -> tuple[tuple[int, int], ...]:
    """Age bands of a rule or band entry: ``age_months`` or ``age_years`` (inclusive)."""
    if "age_months" in spec and "age_years" in spec:
        raise RuleSetError(f"{where}: age_months と age_years は同時に指定できません")
    return _ranges(spec.get("age_months"), "age_months", where, 1) or \
        _ranges(spec.get("age_years"), "age_years", where, 12)


def _check_condition(cond: dict, where: str) -> None:
    op = cond.get("op")
    if op not in OPS:
        raise RuleSetError(f"{where}: 比較 op={op!r} は使えません ({', '.join(sorted(OPS))})")
    if "value" not in cond:
        raise RuleSetError(f"{where}: value がありません")


def parse_ruleset(text: str, origin: str = "<text>") -> RuleSet:
    """Parse and check a rule set from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"{origin}: TOML として読めません: {exc}") from exc
    head = data.get("ruleset")
    if not isinstance(head, dict) or "id" not in head:
        raise RuleSetError(f"{origin}: [ruleset] の id がありません")
    rules = []
    seen = set()
    for i, raw in enumerate(data.get("rule", []), start=1):
        where = f"{origin}: rule #{i} ({raw.get('id', '?')})"
        for key in ("id", "label", "kind"):
            if key not in raw:
                raise RuleSetError(f"{where}: {key} がありません")
        kind = raw["kind"]
        if kind not in KINDS:
            raise RuleSetError(f"{where}: kind={kind!r} は未定義です ({', '.join(sorted(KINDS))})")
        unknown = set(raw) - COMMON - KINDS[kind]
        if unknown:
            raise RuleSetError(f"{where}: 不明な項目 {sorted(unknown)}")
        if raw["id"] in seen:
            raise RuleSetError(f"{where}: id が重複しています")
        seen.add(raw["id"])
        params = {k: v for k, v in raw.items() if k in KINDS[kind]}
        if params.get("subject", "self") not in SUBJECTS:
            raise RuleSetError(f"{where}: subject={params['subject']!r} は使えません")
        for key, cond in (params.get("where") or {}).items():
            if key not in ("subtype", "value_num", "value_text", "attrs_regex", "attr_item", "attr_num", "code_list"):
                raise RuleSetError(f"{where}: where.{key} は使えません")
            if key == "code_list":
                from app.engine.reference.receipts import CODE_LISTS
                if cond not in CODE_LISTS:
                    raise RuleSetError(f"{where}: where.code_list={cond!r} は未定義です ({', '.join(sorted(CODE_LISTS))})")
            if key in ("value_num", "subtype", "value_text", "attr_item", "attr_num"):
                _check_condition(cond, f"{where}: where.{key}")
        if "aggregate" in params:
            agg = params["aggregate"]
            if agg.get("fn") not in ("count", "max", "min", "latest", "sum"):
                raise RuleSetError(f"{where}: aggregate.fn は count/max/min/latest/sum")
            _check_condition(agg, f"{where}: aggregate")
        for j, band in enumerate(params.get("band", []), start=1):
            if not age_ranges_of(band, f"{where} band #{j}"):
                raise RuleSetError(f"{where} band #{j}: age_years か age_months が必要です")
        role = raw.get("role", "flag")
        if role not in ("flag", "fact"):
            raise RuleSetError(f"{where}: role は flag か fact")
        if raw.get("disclosure", "staff") not in ("discuss", "staff", "never"):
            raise RuleSetError(f"{where}: disclosure は discuss/staff/never")
        rules.append(Rule(
            id=raw["id"], label=raw["label"], kind=kind, weight=float(raw.get("weight", 1.0)),
            params=params, age_ranges=age_ranges_of(raw, where), role=role,
            restricted=raw.get("restricted"), disclosure=raw.get("disclosure", "staff"),
            description=raw.get("description", ""), calibrate=bool(raw.get("calibrate", False)),
        ))
    ids = {r.id for r in rules}
    for r in rules:
        if r.kind == "combine":
            for part in (*r.get("all", []), *r.get("any", []), *r.get("none", [])):
                if part not in ids:
                    raise RuleSetError(f"{origin}: rule {r.id}: 参照先 {part!r} がありません")
    if not rules:
        raise RuleSetError(f"{origin}: rule が一つもありません")
    return RuleSet(id=str(head["id"]), version=int(head.get("version", 1)),
                   target=str(head.get("target", "abuse")), title=str(head.get("title", head["id"])),
                   rules=tuple(rules), source_text=text)


def load_ruleset(path: str | Path) -> RuleSet:
    """Load a rule set file."""
    p = Path(path)
    return parse_ruleset(p.read_text(encoding="utf-8"), origin=p.name)


def shipped_ruleset(name: str) -> RuleSet:
    """A rule set shipped in resources/rules (``report_2023``, ``improved``, ``postpartum``)."""
    return load_ruleset(resource_path("rules", f"{name}.toml"))
