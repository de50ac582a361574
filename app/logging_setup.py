"""Logging for web, worker and CLI: one JSON object per line in production, text in development.

Every record may carry the tenant's clientKey (`tenant`), set for a block of work with
`tenant_context(client_key)` or per call with `extra={"tenant": ...}`. A redaction filter masks
anything that looks like a JWT, the value of an Authorization header, and the secrets it was
told about (TIERWISE_SECRET_KEY, plus any `register_secret` call), in messages, arguments and
tracebacks alike.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from app.settings import Settings

#: What replaces a redacted value.
MASK = "[redacted]"
#: Three base64url segments, the first a JSON header (`eyJ` = '{"'): a JWT, signed or not.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
#: `Authorization: <scheme> <value>` in headers dumps, JSON or repr'd dicts; keeps the scheme.
_AUTHORIZATION = re.compile(
    r"""(?P<name>authorization|x-forge-oauth-system)(?P<sep>['"]?\s*[:=]\s*['"]?)"""
    r"""(?:(?P<scheme>JWT|Bearer|Basic)\s+)?[^\s'",}]+""",
    re.IGNORECASE,
)
#: A token in a query string (`?jwt=…`, as Connect page loads carry): in request lines and Referer headers.
_QUERY_TOKEN = re.compile(r"(?P<name>[?&;](?:jwt|token|access_token|signature)=)[^&;\s'\"]+", re.IGNORECASE)
#: `"sharedSecret": "..."` and similar key/value pairs in logged bodies.
_SECRET_FIELD = re.compile(
    r"""(?P<name>shared_?secret|secret_?key|password|token)(?P<sep>['"]?\s*[:=]\s*['"]?)[^\s'",}]+""",
    re.IGNORECASE,
)
#: Record attributes that are the logging machinery's, not extra context worth emitting.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

_tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("tierwise_tenant", default=None)
_known_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in a log line from now on (short values are ignored)."""
    if value and len(value) >= 8:
        with _secrets_lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    """`text` with JWTs, Authorization values and known secrets masked."""
    text = _JWT.sub(MASK, text)
    text = _QUERY_TOKEN.sub(lambda m: m["name"] + MASK, text)
    text = _AUTHORIZATION.sub(
        lambda m: f"{m['name']}{m['sep']}{(m['scheme'] + ' ') if m['scheme'] else ''}{MASK}", text
    )
    text = _SECRET_FIELD.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    with _secrets_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactFilter(logging.Filter):
    """Redact a record's formatted message in place (for loggers whose lines Tierwise does not format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


@contextmanager
def tenant_context(client_key: str | None) -> Iterator[None]:
    """Tag every record logged inside the block with `tenant=client_key`."""
    token = _tenant.set(client_key)
    try:
        yield
    finally:
        _tenant.reset(token)


class ContextFilter(logging.Filter):
    """Adds `tenant` (from `tenant_context`, unless given in `extra`) and redacts the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "tenant", None) is None:
            record.tenant = _tenant.get()
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, tenant, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if getattr(record, "tenant", None):
            entry["tenant"] = record.tenant  # type: ignore[attr-defined]
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRS and name != "tenant" and not name.startswith("_"):
                entry[name] = value if isinstance(value, int | float | bool | type(None)) else redact(str(value))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines (development), redacted like the JSON ones."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(tenant_part)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        tenant = getattr(record, "tenant", None)
        record.tenant_part = f" [{tenant}]" if tenant else ""
        return redact(super().format(record))


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Send the root logger to `stream` (stderr) in the configured format and level; returns the handler."""
    register_secret(settings.secret_key)
    for key in (settings.secret_key or "").split(","):
        register_secret(key.strip())
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_tierwise", False)]:
        root.removeHandler(old)
    handler._tierwise = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    return handler
