"""A nurse's follow-up record counts as "followed" unless its status is still 未対応."""

from app.engine.rules import parse_ruleset
from app.engine.rules.examples import FrameBuilder
from app.engine.scoring import evaluate

RULES = '''
[ruleset]
id = "t"
target = "abuse"
[[rule]]
id = "income"
label = "低所得"
kind = "events"
event_types = ["income_bracket"]
weight = 1.0
'''


def test_followup_status_decides_followed():
    b = FrameBuilder()
    kids = [b.child("2023-01", household_id=f"H{i}") for i in range(4)]
    b.event(kids[0], "followup", "2024-06-01", value_text="未対応")
    b.event(kids[1], "followup", "2024-06-01", value_text="訪問済み")
    b.event(kids[2], "followup", "2024-06-01", value_text="支援中(ケース化)")
    p, e, r = b.frames()
    res = evaluate(p, e, r, parse_ruleset(RULES), "2025-01-31", validate=False)
    followed = res.follow.set_index("person_id")["followed"]
    assert not followed[kids[0]]
    assert followed[kids[1]] and followed[kids[2]]
    assert not followed[kids[3]]
