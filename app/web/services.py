"""Per-app services (tenant store, Redis, settings) built once by `app.bootstrap` and kept on the app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.settings import Settings

_KEY = "tierwise"


def init_services(flask_app: Flask, settings: Settings) -> None:
    from app.bootstrap import Services

    flask_app.extensions[_KEY] = Services(settings)


def services_of(flask_app: Flask) -> Services:
    """The services attached to `flask_app`."""
    return flask_app.extensions[_KEY]


def services() -> Services:
    """The current app's services."""
    return services_of(current_app)
