"""The peers bench_ingest.py measures Tierwise's webhook endpoint against, served by the same gunicorn.

- `bare_app()`: a Flask endpoint that reads the body and answers 204 (the ceiling).
- `naive_app()`: what a first version would do: PyJWT decode (HS256, one fixed secret), `json.loads`
  of the body, and a plain rq `Queue.enqueue` of the job (no dedupe, no tenant lookup).
"""

from __future__ import annotations

import json
import os
import uuid

import jwt
import redis
from flask import Flask, request
from rq import Queue

PATH = "/webhooks/jira"


def bare_app() -> Flask:
    app = Flask("bare")

    @app.post(PATH)
    def hook() -> tuple[str, int]:
        request.get_data()
        return "", 204

    return app


def naive_app() -> Flask:
    app = Flask("naive")
    secret = os.environ["BENCH_SHARED_SECRET"]
    queue = Queue(os.environ.get("TIERWISE_QUEUE", "tierwise"), connection=redis.Redis.from_url(os.environ["REDIS_URL"]))

    @app.post(PATH)
    def hook() -> tuple[str, int]:
        token = (request.headers.get("Authorization") or "").removeprefix("JWT ")
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False})
        event = json.loads(request.get_data())
        queue.enqueue("jobs.events.process_event", claims["iss"], str(uuid.uuid4()), event)
        return "", 204

    return app
