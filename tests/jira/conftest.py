"""Fixtures for the Jira door's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tiny_jira import TinyJira


@pytest.fixture
def tiny_jira() -> Iterator[TinyJira]:
    stub = TinyJira()
    yield stub
    stub.close()


@pytest.fixture
def other_site() -> Iterator[TinyJira]:
    stub = TinyJira()
    yield stub
    stub.close()
