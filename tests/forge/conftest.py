"""Fixtures for the Forge front door: RSA keys and a JWKS server on 127.0.0.1 serving the first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from forge_fixtures import KID, JwksServer, public_jwk


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    """The key Forge publishes in its JWKS under `KID`."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    """A key Forge never published: tokens signed with it are forgeries."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_server(signing_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    server = JwksServer()
    server.keys = [public_jwk(signing_key, KID)]
    server.start()
    yield server
    server.stop()
