"""What the app's iframe pages share: the `static/` folder, the page shell, and JSON refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, render_template

from app.web.errors import error_body

#: The `static/` folder at the top of the checkout (JS, CSS; no build step).
STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
#: Atlassian's Connect JavaScript API; production pages load it, tests answer it with a stand-in.
ALL_JS_URL = "https://connect-cdn.atl-paas.net/all.js"

bp = Blueprint("pages", __name__, static_folder=str(STATIC_DIR), static_url_path="/static")


def render_page(template: str, **context: Any) -> Response:
    """A page shell: never cached (it embeds nothing secret, but the JS it names changes with deploys)."""
    response = Response(render_template(template, all_js_url=ALL_JS_URL, **context), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def refuse(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    """A JSON refusal in the one shape every error has (plus `extra` keys, e.g. `errors`)."""
    return jsonify({**error_body(code, message), **extra}), status
