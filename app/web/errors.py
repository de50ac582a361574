"""The one place errors become HTTP answers: every refusal is `{"error": code, "message": text}`."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.connect.errors import AuthError

log = logging.getLogger(__name__)

#: Codes for the HTTP errors Flask raises itself; anything else gets a slug of its name.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


#: What a body nested deeper than the JSON parser goes is told.
TOO_DEEP = "the request body nests objects or arrays too deeply"


class BadBody(Exception):
    """A request body Tierwise cannot use: answered 400."""

    status = 400
    code = "bad_body"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_body(code: str, message: str) -> dict[str, str]:
    """The JSON shape of every refusal."""
    return {"error": code, "message": message}


def _validation_message(messages: object, prefix: str = "") -> str:
    """`field: problem; other.field: problem` from marshmallow's nested messages."""
    if isinstance(messages, dict):
        parts = [_validation_message(value, f"{prefix}{key}.") for key, value in messages.items()]
        return "; ".join(part for part in parts if part)
    if isinstance(messages, list):
        return f"{prefix.rstrip('.')}: {' '.join(str(m) for m in messages)}" if prefix else " ".join(map(str, messages))
    return f"{prefix.rstrip('.')}: {messages}" if prefix else str(messages)


def _auth_error(exc: AuthError) -> ResponseReturnValue:
    # The code only: the message may name a path, never a token, but logs stay terse anyway.
    log.info("connect call refused: %s", exc.code)
    return jsonify(exc.as_json()), exc.status


def _bad_body(exc: BadBody) -> ResponseReturnValue:
    # One line, never the body: junk from anyone must not flood the log.
    log.info("request body refused: %s", exc.message)
    return jsonify(error_body(exc.code, exc.message)), exc.status


def _too_deep(exc: RecursionError) -> ResponseReturnValue:
    # json.loads gives up on bodies nested thousands of levels deep (e.g. the raw webhook parse).
    return _bad_body(BadBody(TOO_DEEP))


def _validation_error(exc: ValidationError) -> ResponseReturnValue:
    return jsonify(error_body("bad_body", _validation_message(exc.messages))), 400


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    code = HTTP_CODES.get(status) or (exc.name or "error").lower().replace(" ", "_")
    message = exc.description or exc.name or "error"
    if status == 413:
        message = "the request body is larger than this server accepts"
    response = jsonify(error_body(code, message))
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response, status


def register(flask_app: Flask) -> None:
    """Install the JSON error handlers on `flask_app`."""
    flask_app.register_error_handler(AuthError, _auth_error)
    flask_app.register_error_handler(BadBody, _bad_body)
    flask_app.register_error_handler(RecursionError, _too_deep)
    flask_app.register_error_handler(ValidationError, _validation_error)
    flask_app.register_error_handler(HTTPException, _http_error)
