"""The full example in docs/policy-format.md is a valid policy document."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.schemas.policy import dump_policy, load_policy

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_documented_example_loads_and_round_trips() -> None:
    text = (REPO_ROOT / "docs" / "policy-format.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(.*?)```", text, re.S)
    assert example is not None
    policy = load_policy(json.loads(example.group(1)))
    assert list(policy.tiers) == ["premium", "basic"]
    assert len(policy.mapping.rules) == 5 and len(policy.actions) == 4
    assert load_policy(dump_policy(policy)) == policy
