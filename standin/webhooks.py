"""Webhook delivery like Jira's: signed, in the background, retried on 408/409/425/429/5xx."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from standin.connect import InstalledApp, app_token

log = logging.getLogger(__name__)

#: Statuses Jira retries a webhook on (plus connection errors and timeouts).
RETRY_STATUSES = frozenset({408, 409, 425, 429}) | frozenset(range(500, 600))
#: Attempts per delivery, first one included (Jira Cloud makes up to 5 retries).
MAX_ATTEMPTS = 6
#: First retry delay; doubled per retry and capped (kept small so tests stay fast).
BACKOFF_S = 0.05
MAX_BACKOFF_S = 0.5
#: How long the app has to answer one delivery.
TIMEOUT_S = 10.0


@dataclass
class Delivery:
    """One webhook sent (or to be sent) to an app; `attempts` holds each answer's status (0: no answer)."""

    identifier: str
    event: str
    url: str
    body: dict[str, Any]
    app_key: str
    sub: str | None = None
    attempts: list[int] = field(default_factory=list)
    delivered: bool = False
    finished: bool = False
    redelivery: bool = False
    #: Headers for attempt n instead of Connect's signed JWT (Forge: a fresh invocation token each time).
    sign: Callable[[int], dict[str, str]] | None = field(default=None, repr=False, compare=False)
    #: The body of attempt n when it differs from `body` (Forge adds `retryContext` to retries).
    body_for: Callable[[int], dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    #: Retry on any non-2xx answer, at most this many attempts (Forge); None: Jira's webhook rules.
    attempts_limit: int | None = None


class WebhookSender:
    """Sends deliveries one after another from a background thread."""

    def __init__(self, apps: dict[str, InstalledApp], *, max_attempts: int = MAX_ATTEMPTS,
                 backoff_s: float = BACKOFF_S, timeout_s: float = TIMEOUT_S) -> None:
        self.apps = apps
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._session = requests.Session()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="standin-webhooks", daemon=True)
        self._thread.start()

    def send(self, app: InstalledApp, event: str, url: str, body: dict[str, Any], *,
             identifier: str | None = None, sub: str | None = None, redelivery: bool = False,
             sign: Callable[[int], dict[str, str]] | None = None,
             body_for: Callable[[int], dict[str, Any]] | None = None, attempts_limit: int | None = None) -> Delivery:
        delivery = Delivery(identifier or str(uuid.uuid4()), event, url, body, app.key, sub,
                            redelivery=redelivery, sign=sign, body_for=body_for, attempts_limit=attempts_limit)
        with self._idle:
            self._pending += 1
            self.deliveries.append(delivery)
        self._queue.put(delivery)
        return delivery

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery finished (delivered or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self) -> None:
        """Stop sending; deliveries still queued or retrying are dropped."""
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._session.close()

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            if delivery is None:
                return
            try:
                self._deliver(delivery)
            except Exception:  # a bug here must not kill the sender thread
                log.exception("webhook delivery %s failed", delivery.identifier)
            finally:
                delivery.finished = True
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, delivery: Delivery) -> None:
        for attempt in range(delivery.attempts_limit or self.max_attempts):
            app = self.apps.get(delivery.app_key)
            if app is None or not app.installed or not app.enabled or self._stopping.is_set():
                return
            headers = {"Content-Type": "application/json", **delivery.sign(attempt)} if delivery.sign else {
                # A fresh token per attempt, as Jira mints one per request.
                "Authorization": f"JWT {app_token(app, 'POST', delivery.url, sub=delivery.sub)}",
                "Content-Type": "application/json",
                "User-Agent": "Atlassian Webhook HTTP Client",
                "X-Atlassian-Webhook-Identifier": delivery.identifier,
                "X-Atlassian-Webhook-Flow": "Retry" if attempt else "Primary",
            }
            if attempt:
                headers["X-Atlassian-Webhook-Retry"] = str(attempt)
            body = delivery.body_for(attempt) if delivery.body_for else delivery.body
            try:
                resp = self._session.post(delivery.url, json=body, headers=headers,
                                          timeout=self.timeout_s, allow_redirects=False)
                status = resp.status_code
            except requests.RequestException:
                status = 0
            delivery.attempts.append(status)
            if 200 <= status < 300:
                delivery.delivered = True
                return
            if status and status not in RETRY_STATUSES and delivery.attempts_limit is None:
                return
            time.sleep(min(self.backoff_s * 2**attempt, MAX_BACKOFF_S))
