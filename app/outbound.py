"""The one function that posts to a URL outside Jira (on-call pages, chat webhooks).

No redirects (a webhook that answers 3xx is treated as refusing), a short timeout, and the URL
never in an error message or a log line (it may carry a secret token in its path). A later
hardening pass (https only, resolved-address checks against private ranges) changes this one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from app.jira.errors import JiraUnavailable

#: Seconds an outbound webhook may take (connect + read); a slow receiver is retried, not waited on.
TIMEOUT_SECONDS = 5
#: Schemes an outbound URL may use.
SCHEMES = ("https", "http")


class OutboundUnavailable(JiraUnavailable):
    """The receiver did not take the post (connection failure, timeout, 5xx, 429): retried like Jira."""


class OutboundRefused(ValueError):
    """The URL is not one Tierwise posts to (scheme, no host)."""


def post_json(url: str, body: Mapping[str, Any], *, what: str = "webhook") -> int:
    """POST `body` as JSON to `url`; return the status (4xx included: the caller decides).

    Raises `OutboundUnavailable` for failures worth a retry and `OutboundRefused` for a URL that
    is not http(s) with a host. `what` names the receiver in error messages instead of the URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise OutboundRefused(f"{what}: not an http(s) URL with a host")
    try:
        response = requests.post(url, json=dict(body), timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        raise OutboundUnavailable(f"{what}: {type(exc).__name__}") from None
    status = response.status_code
    response.close()
    if status >= 500 or status == 429:
        raise OutboundUnavailable(f"{what} answered {status}", status=status)
    return status
