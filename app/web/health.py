"""`GET /healthz`: 200 when the database and Redis answer, 503 naming what does not."""

from __future__ import annotations

import logging

import redis
import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from app.bootstrap import Services
from app.web.services import services

#: Seconds a Redis check may take before it counts as unreachable (a load balancer is waiting).
REDIS_CHECK_TIMEOUT = 2.0

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def _database(svc: Services) -> str:
    try:
        with svc.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        log.warning("health: database unreachable: %s", type(exc).__name__)
        return "unreachable"
    return "ok"


def _redis(svc: Services) -> str:
    try:
        from app.redis_conn import redis_url

        client = redis.Redis.from_url(
            redis_url(svc.settings), socket_connect_timeout=REDIS_CHECK_TIMEOUT, socket_timeout=REDIS_CHECK_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        log.warning("health: redis unreachable: %s", type(exc).__name__)
        return "unreachable"
    return "ok"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report whether this process can reach its database and Redis."""
    svc = services()
    checks = {"database": _database(svc), "redis": _redis(svc)}
    healthy = all(state == "ok" for state in checks.values())
    return jsonify({"status": "ok" if healthy else "unavailable", **checks}), 200 if healthy else 503
