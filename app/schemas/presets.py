"""The built-in presets: published support policies shipped as policy documents (`presets/*.json`)."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from app.policy.errors import PolicyError
from app.policy.model import Policy
from app.schemas.policy import load_policy

#: The package folder holding one `<preset id>.json` policy document per preset.
_PRESETS = resources.files("app.schemas") / "presets"


@cache
def _documents() -> dict[str, dict[str, Any]]:
    docs = {}
    for entry in sorted(_PRESETS.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            docs[entry.name.removesuffix(".json")] = json.loads(entry.read_text(encoding="utf-8"))
    return docs


def list_presets() -> list[dict[str, str]]:
    """Every preset as `{"id", "name", "description"}`, by id."""
    return [
        {"id": pid, "name": doc["name"], "description": doc["description"]}
        for pid, doc in _documents().items()
    ]


def preset_document(preset_id: str) -> dict[str, Any]:
    """The policy document of a preset (a copy the caller may change); PolicyError when unknown."""
    try:
        return copy.deepcopy(_documents()[preset_id])
    except KeyError:
        known = ", ".join(_documents())
        raise PolicyError(f'unknown preset "{preset_id}" (known: {known})') from None


@cache
def load_preset(preset_id: str) -> Policy:
    """The preset as a Policy (cached: one object per preset, so compiled calendars are reused)."""
    return load_policy(preset_document(preset_id))
