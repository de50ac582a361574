"""Atlassian Connect's canonical request and query-string hash (the `qsh` claim).

The canonical request is `METHOD&path&query`: the method upper-cased; the path relative to the
app's (or product's) context path, "/" when empty, without a trailing slash, with "&" written
"%26"; the query parameters except `jwt`, sorted by their encoded names, each name's values
sorted and joined by commas, names and values percent-encoded per RFC 3986.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, quote, urlsplit

#: The fixed `qsh` of context tokens (`AP.context.getToken()`), which bind to no request.
CONTEXT_QSH = "context-qsh"
#: The query parameter that carries a token; never part of its own hash.
JWT_PARAM = "jwt"

#: A query as a raw string ("a=1&b=2"), a mapping of names to one or more values, or pairs.
Query = str | Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]] | None


def _encode(text: str) -> str:
    # quote() with no safe characters leaves exactly RFC 3986's unreserved set: A-Z a-z 0-9 - . _ ~
    return quote(text, safe="")


def _pairs(query: Query) -> list[tuple[str, str]]:
    if query is None:
        return []
    if isinstance(query, str):
        return parse_qsl(query, keep_blank_values=True)
    if isinstance(query, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, values in query.items():
            if isinstance(values, str):
                pairs.append((name, values))
            else:
                pairs.extend((name, value) for value in values)
        return pairs
    return list(query)


def canonical_path(path: str) -> str:
    """The path part: leading "/", no trailing "/", "&" encoded."""
    trimmed = path.strip("/")
    return "/" + trimmed.replace("&", "%26")


def canonical_query(query: Query) -> str:
    """The query part: `jwt` dropped, names sorted, repeated values sorted and comma-joined."""
    grouped: dict[str, list[str]] = {}
    for name, value in _pairs(query):
        if name == JWT_PARAM:
            continue
        grouped.setdefault(name, []).append(value)
    # Values are sorted before encoding, names after: what Atlassian's reference vectors expect.
    encoded = sorted(
        (_encode(name), ",".join(_encode(value) for value in sorted(values)))
        for name, values in grouped.items()
    )
    return "&".join(f"{name}={values}" for name, values in encoded)


def canonical_request(method: str, path: str, query: Query) -> str:
    """The canonical request `METHOD&path&query` that the qsh hashes."""
    return f"{method.upper()}&{canonical_path(path)}&{canonical_query(query)}"


def query_string_hash(method: str, path: str, query: Query) -> str:
    """The hex SHA-256 of the canonical request: the value of a token's `qsh` claim."""
    return hashlib.sha256(canonical_request(method, path, query).encode("utf-8")).hexdigest()


def relative_path(url_path: str, base_url: str) -> str:
    """`url_path` with the context path of `base_url` (e.g. "/jira" or "/base") removed."""
    context = urlsplit(base_url).path.rstrip("/")
    if context and (url_path == context or url_path.startswith(context + "/")):
        return url_path[len(context):]
    return url_path


def qsh_for_url(method: str, url: str, base_url: str) -> str:
    """The qsh for a request to the absolute (or root-relative) `url` of a site at `base_url`."""
    parts = urlsplit(url)
    return query_string_hash(method, relative_path(parts.path, base_url), parts.query)
