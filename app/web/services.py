"""Per-app services (tenant store, Redis, settings) built once by `app.bootstrap` and kept on the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import Flask, current_app

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.settings import Settings
    from app.site_directory import SiteDirectory

_KEY = "tierwise"
_SITE_DIRECTORY_KEY = "tierwise.site_directory"


def init_services(flask_app: Flask, settings: Settings) -> None:
    from app.bootstrap import Services

    flask_app.extensions[_KEY] = Services(settings)


def services_of(flask_app: Flask) -> Services:
    """The services attached to `flask_app`."""
    return cast("Services", flask_app.extensions[_KEY])


def services() -> Services:
    """The current app's services."""
    return services_of(current_app)


def site_directory() -> SiteDirectory:
    """The current app's cached view of tenants' Jira sites (admin checks, fields, statuses)."""
    directory = current_app.extensions.get(_SITE_DIRECTORY_KEY)
    if directory is None:
        from app.site_directory import SiteDirectory as _SiteDirectory

        directory = current_app.extensions.setdefault(_SITE_DIRECTORY_KEY, _SiteDirectory(services()))
    return directory  # type: ignore[no-any-return]
