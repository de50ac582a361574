"""The outbound rule (SSRF): what a tenant admin's webhook URL may reach, checked at save and at send.

Every resolution goes through a resolver the test controls (no DNS, no internet); the only
sockets opened reach local receivers on 127.0.0.1, and a recording `create_connection` shows
which address the post really connected to.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3.util.connection

from app import outbound
from app.outbound import OutboundRefused, OutboundUnavailable, parse_target, post_json, url_problem
from app.settings import Settings, parse_host_ports


class Receiver:
    """A local http server that records each POST (path, Host header, body) and answers `status`."""

    def __init__(self, status: int = 202, location: str | None = None) -> None:
        self.posts: list[tuple[str, str, Any]] = []
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                posts.append((self.path, str(self.headers.get("Host")), json.loads(self.rfile.read(length) or b"{}")))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


class ScriptedResolver:
    """Answers each lookup with the next list of addresses (the last one repeats); counts the calls."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = [list(a) for a in answers]
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def redirect_connections(monkeypatch: pytest.MonkeyPatch, port: int) -> list[tuple[str, int]]:
    """Record every address a post connects to; the socket itself goes to 127.0.0.1:`port`."""
    seen: list[tuple[str, int]] = []
    real = urllib3.util.connection.create_connection

    def recording(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        seen.append(address)
        return real(("127.0.0.1", port), *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", recording)
    return seen


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> list[tuple[str, int]]:
    """Every address a post connects to, recorded; the socket itself goes to the local receiver."""
    return redirect_connections(monkeypatch, receiver.port)


#: Addresses no webhook may reach, in the spellings an attacker would try (literal in the URL).
FORBIDDEN_LITERALS = [
    "127.0.0.1", "127.1", "0x7f000001", "0x7f.0.0.1", "2130706433", "017700000001", "[::1]",
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "0.0.0.0", "0", "[::]", "10.0.0.1", "172.16.5.4", "192.168.1.1",
    "169.254.169.254", "[::ffff:169.254.169.254]", "[fe80::1]", "[fc00::1]", "[fd12:3456::1]", "100.64.0.1",
    "224.0.0.1", "[ff02::1]", "240.0.0.1", "255.255.255.255", "198.18.0.1", "[64:ff9b::a9fe:a9fe]",
    "127.0.0.1.",
]
#: Addresses a resolver might answer for an innocent-looking name (DNS pointing inside).
FORBIDDEN_ANSWERS = [
    "127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1", "0.0.0.0", "10.1.2.3", "172.31.255.255",
    "192.168.0.10", "169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200", "224.0.0.251",
    "64:ff9b::7f00:1", "::",
]
PUBLIC = "93.184.216.34"


@pytest.mark.parametrize("host", FORBIDDEN_LITERALS)
def test_a_literal_private_address_in_any_spelling_is_refused_at_save_time(host: str) -> None:
    assert url_problem(f"https://{host}/hook") == "must not point at a loopback, private, link-local or reserved address"


@pytest.mark.parametrize(("url", "problem"), [
    ("file:///etc/passwd", "must be an https URL"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "must be an https URL"),
    ("ftp://files.example/x", "must be an https URL"),
    ("not a url", "must be a URL"),
    ("", "must be a URL"),
    (None, "must be a URL"),
    ("https:///path-only", "must name a host"),
    ("https://hooks.example:99999/x", "must be a URL"),
    ("https://hooks.example@169.254.169.254/x", "must not carry a user name or password"),
    ("https://user:pw@hooks.example/x", "must not carry a user name or password"),
    ("https://hooks.example\\@evil.example/x", "must be a URL"),
    ("http://hooks.example/x", "must be an https URL (http only for hosts in TIERWISE_ALLOW_HTTP_HOSTS)"),
    ("http://169.254.169.254/latest/meta-data/", "must be an https URL (http only for hosts in TIERWISE_ALLOW_HTTP_HOSTS)"),
])
def test_what_is_not_an_https_webhook_is_refused_at_save_time(url: Any, problem: str) -> None:
    assert url_problem(url) == problem


def test_https_to_a_public_name_passes_and_http_only_for_a_listed_host_port() -> None:
    assert url_problem("https://hooks.slack.com/services/T/B/secret") is None
    allow = parse_host_ports("127.0.0.1:5001, Hooks.Local, [::1]:8080")
    assert allow == (("127.0.0.1", 5001), ("hooks.local", None), ("::1", 8080))
    assert url_problem("http://127.0.0.1:5001/page", allow) is None
    assert url_problem("http://127.0.0.1:5002/page", allow) is not None  # another port of the same host
    assert url_problem("http://hooks.local:81/x", allow) is None
    assert url_problem("http://[::1]:8080/x", allow) is None
    assert url_problem("http://127.1:5001/page", allow) is not None  # the listed spelling only


def test_the_allow_list_is_read_from_the_environment_and_bad_entries_stop_the_start() -> None:
    assert Settings.from_env({"TIERWISE_ALLOW_HTTP_HOSTS": "127.0.0.1:5001"}).allow_http_hosts == (("127.0.0.1", 5001),)
    assert Settings.from_env({}).allow_http_hosts == ()
    for bad in ("127.0.0.1:http", "http://x", "a@b", "h:0"):
        with pytest.raises(ValueError, match="TIERWISE_ALLOW_HTTP_HOSTS"):
            parse_host_ports(bad)


@pytest.mark.parametrize("host", FORBIDDEN_LITERALS)
def test_a_literal_private_address_is_refused_at_send_time_without_a_connection(
        host: str, connections: list[tuple[str, int]]) -> None:
    resolver = ScriptedResolver([PUBLIC])
    with pytest.raises(OutboundRefused) as caught:
        post_json(f"https://{host}/s3cr3t", {"a": 1}, what="on-call webhook", resolve=resolver)
    assert connections == [] and resolver.calls == []
    assert "s3cr3t" not in str(caught.value) and str(caught.value).startswith("on-call webhook: ")


@pytest.mark.parametrize("answer", FORBIDDEN_ANSWERS)
def test_a_name_resolving_to_a_private_address_is_refused_at_send_time(
        answer: str, connections: list[tuple[str, int]]) -> None:
    resolver = ScriptedResolver([answer])
    with pytest.raises(OutboundRefused, match="resolves to a loopback, private"):
        post_json("https://hooks.example/s3cr3t", {}, what="chat webhook", resolve=resolver)
    assert connections == [] and resolver.calls == [("hooks.example", 443)]


def test_one_private_answer_among_public_ones_refuses_the_post(connections: list[tuple[str, int]]) -> None:
    with pytest.raises(OutboundRefused):
        post_json("https://hooks.example/x", {}, resolve=ScriptedResolver([PUBLIC, "10.0.0.7"]))
    assert connections == []


def test_dns_rebinding_the_post_connects_to_the_one_checked_answer(
        receiver: Receiver, connections: list[tuple[str, int]]) -> None:
    """The resolver answers public, then private: Tierwise resolves once and connects to that answer."""
    resolver = ScriptedResolver([PUBLIC], ["127.0.0.1"])
    allow = (("hooks.example", receiver.port),)  # plain http for this name; its addresses are still checked
    status = post_json(f"http://hooks.example:{receiver.port}/hook?t=s3cr3t", {"ticket": "SUP-1"},
                       allow_http=allow, resolve=resolver)
    assert status == 202
    assert resolver.calls == [("hooks.example", receiver.port)]
    assert connections == [(PUBLIC, receiver.port)]
    assert receiver.posts == [("/hook?t=s3cr3t", f"hooks.example:{receiver.port}", {"ticket": "SUP-1"})]


def test_a_listed_http_name_still_gets_the_address_checks(receiver: Receiver, connections: list[tuple[str, int]]) -> None:
    with pytest.raises(OutboundRefused):
        post_json(f"http://hooks.local:{receiver.port}/x", {}, allow_http=(("hooks.local", receiver.port),),
                  resolve=ScriptedResolver(["127.0.0.1"]))
    assert connections == [] and receiver.posts == []


def test_a_listed_loopback_address_is_reachable_and_only_that_one(receiver: Receiver) -> None:
    allow = (("127.0.0.1", receiver.port),)
    assert post_json(receiver.url + "/page", {"x": 1}, allow_http=allow) == 202
    assert receiver.posts == [("/page", f"127.0.0.1:{receiver.port}", {"x": 1})]
    with pytest.raises(OutboundRefused):  # the same server by another loopback spelling is not listed
        post_json(f"http://127.0.0.2:{receiver.port}/page", {}, allow_http=allow)
    with pytest.raises(OutboundRefused):  # a listed name resolving to the listed address: the name is checked
        post_json(f"http://localhost:{receiver.port}/page", {}, allow_http=(*allow, ("localhost", receiver.port)),
                  resolve=ScriptedResolver(["127.0.0.1"]))


def test_a_redirect_is_not_followed() -> None:
    inside = Receiver()
    bouncer = Receiver(status=302, location=inside.url + "/admin")
    try:
        allow = (("127.0.0.1", bouncer.port), ("127.0.0.1", inside.port))
        assert post_json(bouncer.url + "/hook", {"a": 1}, allow_http=allow) == 302
        assert len(bouncer.posts) == 1 and inside.posts == []
    finally:
        inside.close()
        bouncer.close()


def test_a_5xx_is_retried_without_its_status_or_the_url_in_the_error() -> None:
    failing = Receiver(status=503)
    try:
        with pytest.raises(OutboundUnavailable) as caught:
            post_json(failing.url + "/s3cr3t", {}, what="on-call webhook", allow_http=(("127.0.0.1", failing.port),))
        assert str(caught.value) == "on-call webhook unavailable" and caught.value.status is None
    finally:
        failing.close()


def test_a_connection_failure_is_retried_and_names_no_url() -> None:
    closed = Receiver()
    closed.close()  # nothing listens on that port any more
    with pytest.raises(OutboundUnavailable) as caught:
        post_json(f"http://127.0.0.1:{closed.port}/s3cr3t", {}, what="chat webhook",
                  allow_http=(("127.0.0.1", closed.port),))
    assert str(caught.value) == "chat webhook unavailable"


def test_timeouts_are_short() -> None:
    assert outbound.CONNECT_SECONDS <= 3 and outbound.TIMEOUT_SECONDS <= 5


def test_an_https_target_keeps_the_name_for_host_sni_and_certificate() -> None:
    target = parse_target("https://Hooks.Example:8443/a/b?c=d")
    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.example", 8443, "/a/b?c=d")
    assert target.host_header == "hooks.example:8443" and target.literal is None


def _tls_receiver(tmp_path: Any, name: str) -> tuple[Receiver, str]:
    """A Receiver speaking TLS with a self-signed certificate for `name`; returns it and the cert file."""
    import datetime as dt
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = Receiver()
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    return server, str(cert_file)


def test_https_goes_to_the_pinned_address_with_sni_and_the_certificate_checked_on_the_name(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server, ca = _tls_receiver(tmp_path, "hooks.example")
    try:
        monkeypatch.setattr(outbound, "CA_BUNDLE", ca)
        seen = redirect_connections(monkeypatch, server.port)
        resolver = ScriptedResolver([PUBLIC], ["127.0.0.1"])
        assert post_json("https://hooks.example/hook/s3cr3t", {"a": 1}, resolve=resolver) == 202
        assert seen == [(PUBLIC, 443)] and resolver.calls == [("hooks.example", 443)]
        assert server.posts == [("/hook/s3cr3t", "hooks.example", {"a": 1})]
        # A certificate for another name is refused (retried as unavailable, never posted).
        with pytest.raises(OutboundUnavailable):
            post_json("https://other.example/hook", {"a": 2}, resolve=ScriptedResolver([PUBLIC]))
        assert len(server.posts) == 1
    finally:
        server.close()
