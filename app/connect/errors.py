"""The Connect package's errors: one base, a named subclass per reason a call is refused.

Every `AuthError` is answered 401 with `{"error": code, "message": text}` by the web layer. The
message says what was wrong without echoing the token or any secret.
"""

from __future__ import annotations


class AuthError(Exception):
    """A Connect call Tierwise refuses."""

    #: Stable machine-readable code, the `error` of the JSON body.
    code = "unauthorized"
    #: HTTP status the web layer answers with.
    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_json(self) -> dict[str, str]:
        """The response body."""
        return {"error": self.code, "message": self.message}


class MissingToken(AuthError):
    code = "missing_token"


class MalformedToken(AuthError):
    code = "malformed_token"


class BadAlgorithm(AuthError):
    code = "bad_algorithm"


class BadSignature(AuthError):
    code = "bad_signature"


class TokenExpired(AuthError):
    code = "token_expired"


class TokenNotYetValid(AuthError):
    code = "token_not_yet_valid"


class WrongAudience(AuthError):
    code = "wrong_audience"


class QshMismatch(AuthError):
    code = "qsh_mismatch"


class ContextQshRefused(AuthError):
    """A context token (qsh `context-qsh`) presented where a request-bound token is required."""

    code = "context_qsh_refused"


class UnknownTenant(AuthError):
    code = "unknown_tenant"


class ClientKeyMismatch(AuthError):
    code = "client_key_mismatch"


class BadKeyId(AuthError):
    code = "bad_kid"


class KeyUnavailable(AuthError):
    code = "key_unavailable"
