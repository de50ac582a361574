"""Tierwise: support-policy SLAs for Jira Service Management.

`create_app()` is the Flask app factory used by gunicorn and the Procfile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from app.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app; blueprints are imported here so importing `app` does nothing."""
    from flask import Flask

    from app.logging_setup import configure_logging
    from app.settings import MAX_BODY_BYTES
    from app.settings import Settings as _Settings
    from app.web import register_web

    settings = settings or _Settings.from_env()
    configure_logging(settings)
    flask_app = Flask(__name__, static_folder=None)
    flask_app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    flask_app.config["TIERWISE_SETTINGS"] = settings
    register_web(flask_app, settings)
    return flask_app
