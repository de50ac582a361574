"""Fixtures for the Connect protocol tests (no Flask): the reference qsh vectors and a key server."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The install-key server and token helpers are shared with tests/web (one copy, not two).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))

from connect_testkit import KID, KeyServer, pem  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402


@pytest.fixture(scope="session")
def qsh_vectors(peers_dir: Path) -> dict[str, Any]:
    """Atlassian's 79 signed-URL vectors: {"secret": ..., "tests": [{name, canonicalUrl, signedUrl}]}."""
    return json.loads((peers_dir / "specs" / "ace-jwt-signed-urls.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_server(rsa_key: rsa.RSAPrivateKey) -> Iterator[KeyServer]:
    server = KeyServer()
    server.keys[KID] = pem(rsa_key)
    server.start()
    yield server
    server.stop()
