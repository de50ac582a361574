"""Public keys for signed-install lifecycle tokens, fetched by key id and kept once seen.

Atlassian publishes each key as PEM at `{CONNECT_INSTALL_KEYS_URL}/{kid}`. The kid comes from an
unverified token header, so it is checked against a strict pattern before it goes into a URL.

Anyone can post a token with a made-up kid to `/lifecycle/installed`, and each unknown kid would
cost an outbound fetch before any signature can be checked; with a slow key service every web
worker would wait on one. So fetching is bounded per process: a kid found missing is remembered
(`NEGATIVE_TTL_SECONDS`; `FAILURE_TTL_SECONDS` when the service failed), at most
`MAX_CONCURRENT_FETCHES` run at once and at most `FETCH_BURST` start at once then one per
`FETCH_INTERVAL_SECONDS` (beyond that the call fails at once with `KeyUnavailable`, which Atlassian
retries), and a fetch is given up after `DEFAULT_TIMEOUT_SECONDS` in all. Keys already seen are
answered from memory, however busy the fetcher is.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from app.connect.errors import BadKeyId, KeyUnavailable

#: A key id: letters, digits, "-" and "_" only (Atlassian's are UUIDs), so no "/", "..", "?" or "%".
KID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
#: Seconds a whole fetch may take (connect, answer and body); an install retried by Atlassian beats a
#: web worker held up.
DEFAULT_TIMEOUT_SECONDS = 1.5
#: Largest PEM document accepted from the key service.
MAX_KEY_BYTES = 16 * 1024
#: Keys kept in memory; Atlassian rotates rarely, so a handful is plenty.
MAX_CACHED_KEYS = 64
#: Seconds a kid the service does not publish (404, not an RSA PEM) is answered as missing from memory.
NEGATIVE_TTL_SECONDS = 300.0
#: Seconds a kid whose fetch failed (unreachable, timeout, 5xx) is not asked for again.
FAILURE_TTL_SECONDS = 30.0
#: Kids remembered as missing (the oldest are forgotten first).
MAX_NEGATIVE_KIDS = 4096
#: Fetches one process runs at the same time; another caller fails at once instead of waiting.
MAX_CONCURRENT_FETCHES = 1
#: Fetches one process may start at once, and then one more per FETCH_INTERVAL_SECONDS.
FETCH_BURST = 2
FETCH_INTERVAL_SECONDS = 10.0
#: Bytes read from the key service per chunk.
_CHUNK = 4096


class _FetchBudget:
    """A token bucket (FETCH_BURST, one token per FETCH_INTERVAL_SECONDS) on a monotonic clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tokens = float(FETCH_BURST)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(float(FETCH_BURST), self._tokens + (now - self._at) / FETCH_INTERVAL_SECONDS)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class InstallKeyFetcher:
    """Fetches and caches Atlassian's install public keys by kid, with fetching bounded per process."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 session: requests.Session | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()
        self._clock = clock
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._missing: OrderedDict[str, tuple[float, str]] = OrderedDict()  # kid → (until, why)
        self._lock = threading.Lock()
        self._in_flight = threading.BoundedSemaphore(MAX_CONCURRENT_FETCHES)
        self._budget = _FetchBudget(clock)

    def get(self, kid: str) -> Any:
        """The RSA public key published under `kid`; `BadKeyId` or `KeyUnavailable` otherwise."""
        if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
            raise BadKeyId("the token's key id (kid) is not a valid key id")
        with self._lock:
            cached = self._keys.get(kid)
            missing = self._missing.get(kid)
        if cached is not None:
            return cached
        if missing is not None and missing[0] > self._clock():
            raise KeyUnavailable(missing[1])
        if not self._budget.take():
            raise KeyUnavailable("too many install keys asked for; retry later")
        if not self._in_flight.acquire(blocking=False):
            raise KeyUnavailable("the install key service is being asked already; retry later")
        try:
            key = self._fetch(kid)
        finally:
            self._in_flight.release()
        with self._lock:
            if len(self._keys) >= MAX_CACHED_KEYS:
                self._keys.pop(next(iter(self._keys)))
            self._keys[kid] = key
            self._missing.pop(kid, None)
        return key

    def _remember_missing(self, kid: str, why: str, ttl: float) -> KeyUnavailable:
        with self._lock:
            self._missing[kid] = (self._clock() + ttl, why)
            self._missing.move_to_end(kid)
            while len(self._missing) > MAX_NEGATIVE_KIDS:
                self._missing.popitem(last=False)
        return KeyUnavailable(why)

    def _fetch(self, kid: str) -> rsa.RSAPublicKey:
        deadline = self._clock() + self.timeout
        try:
            with self._session.get(f"{self.base_url}/{kid}", timeout=self.timeout, allow_redirects=False,
                                   stream=True) as resp:
                if resp.status_code != 200:
                    ttl = FAILURE_TTL_SECONDS if resp.status_code >= 500 else NEGATIVE_TTL_SECONDS
                    raise self._remember_missing(
                        kid, f"the install key service has no key {kid} (HTTP {resp.status_code})", ttl)
                content = self._read(resp, kid, deadline)
        except requests.RequestException as exc:
            raise self._remember_missing(kid, "the install key service could not be reached",
                                         FAILURE_TTL_SECONDS) from exc
        try:
            key = load_pem_public_key(content)
        except ValueError as exc:
            raise self._remember_missing(kid, f"the install key service sent no PEM public key for {kid}",
                                         NEGATIVE_TTL_SECONDS) from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise self._remember_missing(kid, f"the install key {kid} is not an RSA key", NEGATIVE_TTL_SECONDS)
        return key

    def _read(self, resp: requests.Response, kid: str, deadline: float) -> bytes:
        """The body, refused when larger than MAX_KEY_BYTES or when it trickles in past the deadline."""
        body = bytearray()
        for chunk in resp.iter_content(_CHUNK):
            body += chunk
            if len(body) > MAX_KEY_BYTES:
                raise self._remember_missing(kid, f"the install key service sent an oversized key for {kid}",
                                             NEGATIVE_TTL_SECONDS)
            if self._clock() > deadline:
                raise self._remember_missing(kid, "the install key service answered too slowly",
                                             FAILURE_TTL_SECONDS)
        return bytes(body)
