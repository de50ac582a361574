"""gunicorn's own log lines (its error log and access log) in Tierwise's log format.

`gunicorn --logger-class app.gunicorn_logger.GunicornLogger`: the lines keep gunicorn's wording and
its access-log format, but each goes out as a Tierwise record (text at a terminal, JSON lines
otherwise, per LOG_FORMAT), redacted like every other line: a Connect page's `?jwt=` token is masked.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from app.logging_setup import adopt_handler
from app.settings import Settings


class GunicornLogger(Logger):
    """gunicorn's logger with each of its handlers formatted and filtered like Tierwise's own."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        settings = Settings.from_env()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                adopt_handler(handler, settings)
