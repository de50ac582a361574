"""How the core writes an instant: UTC ISO 8601 with `Z` (the CLI, `simulate` and the property)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(at: datetime) -> str:
    """`at` in UTC as ISO 8601 with a `Z` (`2026-11-19T10:00:00Z`)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
