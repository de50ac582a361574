"""The worker's services: one `Services` per process, built from the environment on first use."""

from __future__ import annotations

import threading

from app.bootstrap import Services
from app.settings import Settings

_services: Services | None = None
_lock = threading.Lock()


def services() -> Services:
    """The process-wide services (settings from the environment)."""
    global _services
    with _lock:
        if _services is None:
            _services = Services(Settings.from_env())
        return _services


def set_services(replacement: Services | None) -> None:
    """Use `replacement` for this process (tests; None rebuilds from the environment on next use)."""
    global _services
    with _lock:
        _services = replacement
