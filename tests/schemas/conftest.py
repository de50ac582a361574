"""A small valid policy document that each schema test breaks in one place."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

BASE_DOCUMENT: dict[str, Any] = {
    "id": "acme",
    "name": "Acme Support",
    "description": "Two tiers, two severities.",
    "calendars": {
        "dresden": {
            "timezone": "Europe/Berlin",
            "hours": {"mon-fri": "09:00-17:00"},
            "holidays": {"country": "DE", "subdivision": "SN"},
        }
    },
    "severities": [
        {"id": "sev1", "name": "Critical", "aliases": ["P1", "Highest"]},
        {"id": "sev2", "name": "Normal", "aliases": ["P2", "Medium"]},
    ],
    "tiers": {
        "premium": {
            "name": "Premium",
            "sev1": {
                "first_response": "1h on dresden",
                "update_cadence": {"active": "60m on 24x7", "mitigated": "at_closure"},
                "resolution": "2bd on dresden",
                "eta_required": True,
            },
            "sev2": {"first_response": {"duration": "4h", "calendar": "dresden"}},
        },
        "standard": {
            "name": "Standard",
            "sev1": {"first_response": "4h on dresden"},
            "sev2": {"first_response": {"best_effort": True, "note": "typically 2-3 business days"}},
        },
    },
    "mapping": {
        "rules": [{"field": "priority", "sets": "severity"}],
        "default_tier": "standard",
        "default_severity": "sev2",
    },
    "phases": {"paused": {"statuses": ["Waiting for customer"]}, "closed": {"categories": ["done"]}},
}


@pytest.fixture
def document() -> Callable[[], dict[str, Any]]:
    """A fresh deep copy of BASE_DOCUMENT per call."""
    return lambda: copy.deepcopy(BASE_DOCUMENT)
