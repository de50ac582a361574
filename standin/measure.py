"""`python -m standin.measure`: spec load time and the stand-in's per-request overhead.

The peer is a bare werkzeug endpoint served the same way (threaded `make_server`, same client), so the
ratio says what JWT checks, spec validation (request and response) and recording cost per call.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable

import requests
from atlassian_jwt import encode_token
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

from standin import specs
from standin.connect import InstalledApp, new_shared_secret
from standin.seed import User
from standin.server import JiraStandin


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _time(fn: Callable[[], object], n: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return (f"{name:<44} median {statistics.median(ms):6.2f} ms  p90 {ms[int(len(ms) * 0.9)]:6.2f} ms  "
            f"({len(ms)} calls)")


def main(n: int = 300) -> None:
    start = time.perf_counter()
    loads = specs.warm_up()
    print(f"spec load + first validation: {time.perf_counter() - start:.3f} s "
          + ", ".join(f"{k} {v:.3f} s" for k, v in loads.items()))

    bare = make_server("127.0.0.1", 0, lambda env, sr: Response('{"ok": true}', 200,
                       content_type="application/json")(env, sr), threaded=True, request_handler=_Quiet)
    threading.Thread(target=bare.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    session = requests.Session()
    bare_url = f"http://127.0.0.1:{bare.server_port}/rest/api/3/issue/SUP-1"
    results = {"bare werkzeug endpoint": _time(lambda: session.get(bare_url), n)}

    for validate in (False, True):
        with JiraStandin(validate_responses=validate) as s:
            app = InstalledApp("bench", "http://127.0.0.1:9", {}, "ck", new_shared_secret(),
                               User("557058:bench", "Bench", None, account_type="app"), "oauth",
                               scopes={"READ", "WRITE", "PROJECT_ADMIN"})
            s.apps[app.key] = app
            s.site.users[app.user.account_id] = app.user
            key = s.create_issue()["key"]
            path = f"/rest/api/3/issue/{key}"

            def get(path: str = path, s: JiraStandin = s, app: InstalledApp = app) -> None:
                token = encode_token("GET", path, app.key, app.shared_secret)
                assert session.get(s.base_url + path, headers={"Authorization": f"JWT {token}"}).ok

            def put(path: str = path, s: JiraStandin = s, app: InstalledApp = app) -> None:
                token = encode_token("PUT", path, app.key, app.shared_secret)
                assert session.put(s.base_url + path, headers={"Authorization": f"JWT {token}"},
                                   json={"fields": {"customfield_10101": "2026-11-23T15:00:00Z"},
                                         "properties": [{"key": "tierwise.sla", "value": {"x": 1}}]}).ok

            label = "with response validation" if validate else "request validation only"
            results[f"stand-in GET issue ({label})"] = _time(get, n)
            results[f"stand-in PUT issue ({label})"] = _time(put, n)
    bare.shutdown()
    base = statistics.median(results["bare werkzeug endpoint"])
    for name, samples in results.items():
        print(_summary(name, samples) + f"  x{statistics.median(samples) / base:.1f} of bare")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
