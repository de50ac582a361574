"""gunicorn's logger for `tierwise run`: the access and error logs with tokens masked.

Connect page loads carry the context token in the query string (`/panel?jwt=…`), and the pages'
own requests repeat it in their Referer header, so gunicorn's access log in any format that shows
the request line or headers would print live tokens. This logger class (`--logger-class
app.access_log.RedactingLogger`) runs every access and error line through
`app.logging_setup.redact` before it is written.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from app.logging_setup import RedactFilter


class RedactingLogger(Logger):
    """gunicorn's own logger, with `RedactFilter` on its access and error loggers."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.access_log, self.error_log):
            if not any(isinstance(f, RedactFilter) for f in logger.filters):
                logger.addFilter(RedactFilter())
