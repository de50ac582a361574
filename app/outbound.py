"""The one function that posts to a URL outside Jira (on-call pages, chat webhooks), and its URL rule.

A tenant admin chooses these URLs, so they are treated as hostile (server-side request forgery):

- **https only**; http only for a `host[:port]` the operator lists in `TIERWISE_ALLOW_HTTP_HOSTS`
  (local development, tests). No userinfo (`https://trusted@evil/`), a host required.
- **Resolved once, checked, pinned.** The host is resolved once; if any answer is loopback,
  private, link-local, multicast, reserved, unspecified or shared (or an IPv4-mapped / NAT64
  IPv6 spelling of one) the post is refused. A literal address is read in every spelling the
  resolver would accept (`127.1`, `0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`). The
  connection then goes to THAT address (urllib3 pool on the IP, `Host` and TLS SNI/certificate
  check on the name), so a second, different DNS answer (rebinding) is never used. The one
  exemption: a URL whose host is an address the operator listed literally (`127.0.0.1:5001`)
  may reach that address (by that literal only; a listed name gets every address check).
- **No redirects** (a 3xx is an answer, and treated as refusing), short connect/read timeouts.
- The URL is never in an error message or a log line (its path is often a bearer secret), and
  callers audit an outcome ("page failed"), never the remote's status or body.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3

from app.jira.errors import JiraUnavailable

#: The CA bundle receivers' certificates are checked against (certifi's Mozilla bundle).
CA_BUNDLE = certifi.where()
#: Seconds to open the connection (TCP + TLS) to a webhook receiver.
CONNECT_SECONDS = 3
#: Seconds for the whole post (connect + read); a slow receiver is retried, not waited on.
TIMEOUT_SECONDS = 5
#: Schemes an outbound URL may use (http only for the operator's allow list).
SCHEMES = ("https", "http")
#: Port assumed when the URL names none.
DEFAULT_PORTS = {"https": 443, "http": 80}
#: NAT64 well-known prefix: its addresses reach the IPv4 address in their last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: What a host that the resolver might read as a legacy IPv4 literal looks like (`0x7f.1`, `017700000001`).
_LEGACY_IPV4 = re.compile(r"^[0-9a-fA-FxX.]+$")

#: An operator's allow-list entry: host (lower case, no brackets) and port (None: any port).
HostPort = tuple[str, int | None]
#: host, port → the addresses it resolves to, in the resolver's order.
Resolver = Callable[[str, int], Sequence[str]]

log = logging.getLogger(__name__)


class OutboundUnavailable(JiraUnavailable):
    """The receiver did not take the post (connection failure, timeout, 5xx, 429): retried like Jira."""


class OutboundRefused(ValueError):
    """The URL is not one Tierwise posts to (scheme, host, address): the message says why, not the URL."""


@dataclass(frozen=True)
class Target:
    """A checked outbound URL: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `host` spells, in any form a resolver accepts (`127.1`, `0x7f000001`), else None."""
    host = host.rstrip(".") if host.endswith(".") and not host.endswith("..") else host
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether `address` is one no webhook may point at (loopback, private, link-local, …)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return forbidden_address(address.ipv4_mapped)
        if address in _NAT64:
            return forbidden_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return (not address.is_global or address.is_loopback or address.is_private or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified)


def parse_target(url: Any, allow_http: Collection[HostPort] = ()) -> Target:
    """Check `url` without resolving it (save time and send time); OutboundRefused says what is wrong."""
    if not isinstance(url, str) or not url.strip() or any(c.isspace() or c == "\\" for c in url):
        raise OutboundRefused("must be a URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefused("must be a URL") from None
    if parts.scheme not in SCHEMES:
        raise OutboundRefused("must be an https URL")
    if not parts.hostname:
        raise OutboundRefused("must name a host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise OutboundRefused("must not carry a user name or password")
    host = parts.hostname.lower()
    port = port or DEFAULT_PORTS[parts.scheme]
    listed = _listed(host, port, allow_http)
    if parts.scheme == "http" and not listed:
        raise OutboundRefused("must be an https URL (http only for hosts in TIERWISE_ALLOW_HTTP_HOSTS)")
    literal = literal_address(host)
    if literal is not None and forbidden_address(literal) and not listed:
        raise OutboundRefused("must not point at a loopback, private, link-local or reserved address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, literal)


def url_problem(url: Any, allow_http: Collection[HostPort] = ()) -> str | None:
    """What is wrong with `url` as a webhook ("must be an https URL"), or None: the save-time check."""
    try:
        parse_target(url, allow_http)
    except OutboundRefused as exc:
        return str(exc)
    return None


def resolve_host(host: str, port: int) -> list[str]:
    """The system resolver's addresses for `host`, in its order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundUnavailable(f"name resolution failed ({type(exc).__name__})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def pinned_address(target: Target, resolve: Resolver = resolve_host) -> str:
    """The one address to connect to: the literal (checked by `parse_target`), or the first answer of
    ONE resolution, every answer checked — with no exemption: a listed literal is reached by its
    literal only, never through a name that happens to resolve to it."""
    if target.literal is not None:
        return str(target.literal)
    answers = list(resolve(target.host, target.port))
    if not answers:
        raise OutboundUnavailable("name resolution gave no address")
    for answer in answers:
        address = ipaddress.ip_address(answer.split("%", 1)[0])
        if forbidden_address(address):
            raise OutboundRefused("resolves to a loopback, private, link-local or reserved address")
    return answers[0]


def post_json(url: str, body: Mapping[str, Any], *, what: str = "webhook",
              allow_http: Collection[HostPort] = (), resolve: Resolver = resolve_host) -> int:
    """POST `body` as JSON to `url`; return the status (4xx included: the caller decides).

    Raises `OutboundUnavailable` for failures worth a retry and `OutboundRefused` for a URL the
    rule above refuses. `what` names the receiver in errors instead of the URL.
    """
    try:
        target = parse_target(url, allow_http)
        address = pinned_address(target, resolve)
    except OutboundRefused as exc:
        log.warning("%s refused: %s", what, exc)
        raise OutboundRefused(f"{what}: {exc}") from None
    try:
        status = _send(target, address, json.dumps(dict(body)).encode())
    except OutboundUnavailable as exc:
        log.info("%s at %s: %s", what, target.host, exc)
        raise OutboundUnavailable(f"{what} unavailable") from None
    if status >= 500 or status == 429:  # no status on the error: it reaches the audit when retries run out
        log.info("%s at %s answered %s", what, target.host, status)
        raise OutboundUnavailable(f"{what} unavailable")
    if status >= 300:
        log.info("%s at %s answered %s", what, target.host, status)
    return status


def _listed(host: str, port: int, allow_http: Collection[HostPort]) -> bool:
    return (host, port) in allow_http or (host, None) in allow_http


def _send(target: Target, address: str, payload: bytes) -> int:
    """One POST to `address`, speaking to it as `target.host` (Host header, SNI, certificate name)."""
    timeout = urllib3.Timeout(total=TIMEOUT_SECONDS, connect=CONNECT_SECONDS)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1,
                                           cert_reqs="CERT_REQUIRED", ca_certs=CA_BUNDLE,
                                           server_hostname=target.host, assert_hostname=target.host)
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)
    headers = {"Host": target.host_header, "Content-Type": "application/json", "User-Agent": "Tierwise"}
    try:
        response = pool.urlopen("POST", target.path, body=payload, headers=headers, redirect=False,
                                retries=False, assert_same_host=False, preload_content=False)
        status = int(response.status)
        response.release_conn()
        return status
    except urllib3.exceptions.HTTPError as exc:
        raise OutboundUnavailable(f"post failed ({type(exc).__name__})") from None
    finally:
        pool.close()
