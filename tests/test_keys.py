"""Redis keys and job paths have one home (`app.keys`): every job path imports, no key is restated."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from app import keys

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", keys.JOB_PATHS)
def test_every_job_path_names_a_function_that_imports(path: str) -> None:
    module, _, name = path.rpartition(".")
    func = getattr(importlib.import_module(module), name)
    assert callable(func) and inspect.isfunction(func)


def test_the_retry_and_timer_jobs_take_an_attempt() -> None:
    for path in (keys.PROCESS_EVENT_JOB, keys.FIRE_TIMER_JOB):
        module, _, name = path.rpartition(".")
        assert "attempt" in inspect.signature(getattr(importlib.import_module(module), name)).parameters


def test_no_module_outside_app_keys_spells_a_key_or_a_job_path() -> None:
    spelled = re.compile(r"""["']tw:|f["']tw:|["']jobs\.[a-z_]+\.[a-z_]+["']""")
    offenders = [str(p.relative_to(ROOT)) for base in ("app", "jobs") for p in (ROOT / base).rglob("*.py")
                 if p.name != "keys.py" and spelled.search(p.read_text())]
    assert offenders == []


def test_tenant_keys_with_colons_cannot_collide() -> None:
    assert keys.issue_meta_key("a:b", "c") != keys.issue_meta_key("a", "b:c")
    assert keys.delivery_key("a:b", "c") != keys.delivery_key("a", "b:c")
