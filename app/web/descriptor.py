"""`GET /atlassian-connect.json`: the app descriptor rendered for this deployment."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from app.connect.descriptor import render_descriptor
from app.web.services import services

bp = Blueprint("descriptor", __name__)


@bp.get("/atlassian-connect.json")
def descriptor() -> ResponseReturnValue:
    settings = services().settings
    body = render_descriptor(base_url=settings.app_base_url, app_key=settings.app_key, app_name=settings.app_name)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-cache"
    return response
