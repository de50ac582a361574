"""`python -m standin [--port N] [--context-path /jira] [--install DESCRIPTOR_URL]`: serve until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading

from standin.server import JiraStandin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    parser.add_argument("--context-path", default="")
    parser.add_argument("--install", metavar="DESCRIPTOR_URL", help="install this Connect app at start")
    parser.add_argument("--no-response-validation", action="store_true")
    args = parser.parse_args(argv)
    standin = JiraStandin(host=args.host, port=args.port, context_path=args.context_path,
                          validate_responses=not args.no_response_validation)
    standin.start()
    if args.install:
        standin.install_app(args.install)
    # One JSON line so a parent process can read where the site is.
    print(json.dumps({"base_url": standin.base_url, "install_keys_url": standin.install_keys_url,
                      "admin": f"http://{args.host}:{standin.port}/_standin/"}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
