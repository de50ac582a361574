"""Public keys for signed-install lifecycle tokens, fetched by key id and kept once seen.

Atlassian publishes each key as PEM at `{CONNECT_INSTALL_KEYS_URL}/{kid}`. The kid comes from an
unverified token header, so it is checked against a strict pattern before it goes into a URL.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from app.connect.errors import BadKeyId, KeyUnavailable

#: A key id: letters, digits, "-" and "_" only (Atlassian's are UUIDs), so no "/", "..", "?" or "%".
KID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
#: Seconds to wait for the key service; an install retried by Atlassian beats a hung worker.
DEFAULT_TIMEOUT_SECONDS = 3.0
#: Largest PEM document accepted from the key service.
MAX_KEY_BYTES = 16 * 1024
#: Keys kept in memory; Atlassian rotates rarely, so a handful is plenty.
MAX_CACHED_KEYS = 64


class InstallKeyFetcher:
    """Fetches and caches Atlassian's install public keys by kid."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    def get(self, kid: str) -> Any:
        """The RSA public key published under `kid`; `BadKeyId` or `KeyUnavailable` otherwise."""
        if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
            raise BadKeyId("the token's key id (kid) is not a valid key id")
        with self._lock:
            cached = self._keys.get(kid)
        if cached is not None:
            return cached
        key = self._fetch(kid)
        with self._lock:
            if len(self._keys) >= MAX_CACHED_KEYS:
                self._keys.pop(next(iter(self._keys)))
            self._keys[kid] = key
        return key

    def _fetch(self, kid: str) -> rsa.RSAPublicKey:
        try:
            resp = self._session.get(f"{self.base_url}/{kid}", timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise KeyUnavailable("the install key service could not be reached") from exc
        if resp.status_code != 200:
            raise KeyUnavailable(f"the install key service has no key {kid} (HTTP {resp.status_code})")
        if len(resp.content) > MAX_KEY_BYTES:
            raise KeyUnavailable(f"the install key service sent an oversized key for {kid}")
        try:
            key = load_pem_public_key(resp.content)
        except ValueError as exc:
            raise KeyUnavailable(f"the install key service sent no PEM public key for {kid}") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise KeyUnavailable(f"the install key {kid} is not an RSA key")
        return key
