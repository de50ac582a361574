"""The web layer: thin Flask handlers over the protocol code, the core and the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from app.settings import Settings


def register_web(flask_app: Flask, settings: Settings) -> None:
    """Attach services, error handlers and every blueprint to `flask_app`."""
    from app.web import admin, descriptor, errors, forge, health, lifecycle, pages, panel, webhooks
    from app.web.services import init_services, services_of

    init_services(flask_app, settings)
    errors.register(flask_app)
    for module in (descriptor, lifecycle, health, forge, pages, admin, panel, webhooks):
        flask_app.register_blueprint(module.bp)
    forge.init_forge_from_services(flask_app, services_of(flask_app))
