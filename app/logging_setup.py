"""Logging for web, worker and CLI: text lines at a terminal, one JSON object per line otherwise.

`LOG_FORMAT` (`text` or `json`) overrides the choice; unset (`auto`) means text when the log stream
is a terminal. gunicorn's own error and access lines go through the same handler setup
(`app.gunicorn_logger`), and alembic's per-process start-up chatter is dropped.

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
#: Loggers whose INFO lines are start-up noise in every process (alembic lists each plugin it loads).
_QUIET_LOGGERS = ("alembic.runtime.plugins",)
#: alembic's per-connection lines ("Context impl SQLiteImpl.", "Will assume ..."); "Running upgrade" stays.
_ALEMBIC_CHATTER = ("Context impl", "Will assume")
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
    """Human-readable lines (at a terminal), redacted like the JSON ones."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(tenant_part)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        tenant = getattr(record, "tenant", None)
        record.tenant_part = f" [{tenant}]" if tenant else ""
        return redact(super().format(record))


class _AlembicChatterFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno <= logging.INFO and str(record.msg).startswith(_ALEMBIC_CHATTER))


def log_format_for(settings: Settings, stream: Any) -> str:
    """`json` or `text`: LOG_FORMAT when given, else text when `stream` is a terminal."""
    if settings.log_format in ("json", "text"):
        return settings.log_format
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def adopt_handler(handler: logging.Handler, settings: Settings) -> logging.Handler:
    """Give `handler` the configured format for its stream, tenant tagging and redaction."""
    stream = getattr(handler, "stream", None)
    handler.setFormatter(JsonFormatter() if log_format_for(settings, stream) == "json" else TextFormatter())
    if not any(isinstance(f, ContextFilter) for f in handler.filters):
        handler.addFilter(ContextFilter())
    return handler


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Send the root logger to `stream` (stderr) in the configured format and level; returns the handler."""
    register_secret(settings.secret_key)
    for key in (settings.secret_key or "").split(","):
        register_secret(key.strip())
    handler = adopt_handler(logging.StreamHandler(stream or sys.stderr), settings)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_tierwise", False)]:
        root.removeHandler(old)
    handler._tierwise = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    migration_log = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(f, _AlembicChatterFilter) for f in migration_log.filters):
        migration_log.addFilter(_AlembicChatterFilter())
    return handler
