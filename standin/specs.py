"""Atlassian's OpenAPI specs, loaded once per process, and the checks the specs cannot make (ADF)."""

from __future__ import annotations

import copy
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse

#: Where the third-party specs live (beside the checkout); TIERWISE_PEERS_DIR overrides.
PEERS_DIR = Path(
    os.environ.get("TIERWISE_PEERS_DIR") or Path(__file__).resolve().parent.parent.parent / "shared" / "peers"
)
#: The server URL both specs declare; requests are validated as if sent there.
SPEC_SERVER = "https://your-domain.atlassian.net"
#: The security scheme patched into the in-memory spec copies so `Authorization: JWT …` is accepted.
CONNECT_SCHEME = {"type": "apiKey", "in": "header", "name": "Authorization",
                  "description": "Atlassian Connect JWT (checked by the stand-in itself)"}
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class SpecNotFound(Exception):
    """No operation in either spec for this path (404) or method (405)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class LoadTimes:
    """Seconds spent loading each spec (JSON parse + openapi-core set-up), for the report."""

    seconds: dict[str, float] = field(default_factory=dict)


LOAD_TIMES = LoadTimes()
_lock = threading.Lock()


def _patched(raw: dict[str, Any]) -> dict[str, Any]:
    """Replace Basic/OAuth security by a Connect JWT scheme (in memory; the file is never edited)."""
    spec = copy.deepcopy(raw)
    spec.setdefault("components", {}).setdefault("securitySchemes", {})["connectJwt"] = CONNECT_SCHEME
    for item in spec["paths"].values():
        for method in HTTP_METHODS:
            if method in item:
                item[method]["security"] = [{"connectJwt": []}]
    spec.pop("security", None)
    return spec


@cache
def load_spec(name: str) -> OpenAPI:
    """Load one spec (`jira-platform.v3.json` or `jsm.v3.json`), patched, once per process."""
    with _lock:
        start = time.perf_counter()
        raw = json.loads((PEERS_DIR / "specs" / name).read_text())
        # The platform spec fails strict spec validation (an enum default outside its values) and the JSM
        # spec repeats an operationId; both are Atlassian's own files, so skip spec validation.
        api = OpenAPI.from_dict(_patched(raw), config=Config(spec_validator_cls=None))
        LOAD_TIMES.seconds[name] = time.perf_counter() - start
        return api


def spec_for(path: str) -> OpenAPI:
    """The spec that documents `path` (relative to the site's base URL)."""
    if path.startswith("/rest/servicedeskapi/"):
        return load_spec("jsm.v3.json")
    if path.startswith("/rest/api/3/"):
        return load_spec("jira-platform.v3.json")
    raise SpecNotFound(404, f"No spec documents {path}")


def warm_up() -> dict[str, float]:
    """Load both specs and validate one request each, so the first real request is not slow."""
    start = time.perf_counter()
    for name, path in (("jira-platform.v3.json", "/rest/api/3/serverInfo"),
                       ("jsm.v3.json", "/rest/servicedeskapi/request/X-1")):
        load_spec(name)
        request_errors("GET", path, {}, {"Authorization": "JWT x"}, b"", "application/json")
    return {**LOAD_TIMES.seconds, "warm_up_total": time.perf_counter() - start}


def _mock_request(method: str, path: str, query: Any, headers: dict[str, str], body: bytes,
                  content_type: str) -> MockRequest:
    return MockRequest(SPEC_SERVER, method, path, args=query, headers=headers, data=body,
                       content_type=content_type or "application/json")


def _describe(exc: BaseException) -> list[str]:
    """Flatten openapi-core's nested errors into readable messages."""
    messages = [str(exc)]
    cause = exc.__cause__ or exc.__context__
    for sub in getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None) or ():
        where = "/".join(str(p) for p in getattr(sub, "absolute_path", ())) or "(root)"
        messages.append(f"{where}: {getattr(sub, 'message', sub)}")
    if cause is not None and not getattr(cause, "schema_errors", None):
        messages.append(str(cause))
    return [m for m in messages if m]


def request_errors(method: str, path: str, query: Any, headers: dict[str, str], body: bytes,
                   content_type: str) -> list[str]:
    """Errors of this request against the spec ([] when valid); SpecNotFound for unknown operations."""
    api = spec_for(path)
    req = _mock_request(method, path, query, headers, body, content_type)
    errors: list[str] = []
    try:
        for exc in api.iter_request_errors(req):
            errors.extend(_describe(exc))
    except PathNotFound as exc:
        raise SpecNotFound(404, str(exc)) from exc
    except OperationNotFound as exc:
        raise SpecNotFound(405, str(exc)) from exc
    for err in errors:
        if "Path not found" in err:
            raise SpecNotFound(404, err)
        if "Operation" in err and "not found" in err:
            raise SpecNotFound(405, err)
    return errors


def response_errors(method: str, path: str, query: Any, status: int, body: bytes,
                    content_type: str = "application/json") -> list[str]:
    """Errors of a generated response against the spec's response schema ([] when valid)."""
    api = spec_for(path)
    req = _mock_request(method, path, query, {"Authorization": "JWT x"}, b"", "application/json")
    resp = MockResponse(body, status_code=status, content_type=content_type)
    errors: list[str] = []
    for exc in api.iter_response_errors(req, resp):
        cause = exc.__cause__ or exc.__context__
        details = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
        if not details:
            errors.append(str(exc))
            continue
        for sub in details:
            # Jira writes times as 2019-02-15T19:01:52.971-0800 (no colon in the offset) while the spec
            # says `date-time`; real responses have that shape, so that one mismatch is not an error.
            if sub.validator == "format" and isinstance(sub.instance, str) and JIRA_TIME.fullmatch(sub.instance):
                continue
            where = "/".join(str(p) for p in sub.absolute_path) or "(root)"
            errors.append(f"{where}: {sub.message}")
    return errors


#: Jira's own timestamp format.
JIRA_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}")
