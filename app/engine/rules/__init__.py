"""Rules (抽出項目): rule sets as data, evaluated over the events frame, vectorised.

``load_ruleset`` / ``parse_ruleset`` / ``shipped_ruleset`` read TOML rule sets;
``app.engine.scoring.evaluate`` runs one over persons, events and relations.
"""

from app.engine.rules.model import (Rule, RuleSet, RuleSetError, load_ruleset, parse_ruleset,
                                    shipped_ruleset)

__all__ = ["Rule", "RuleSet", "RuleSetError", "load_ruleset", "parse_ruleset", "shipped_ruleset"]
