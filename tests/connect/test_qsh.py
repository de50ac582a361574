"""The canonical request and qsh against Atlassian's reference vectors and atlassian-jwt."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
from atlassian_jwt.url_utils import canonicalize_request, hash_url
from hypothesis import given
from hypothesis import strategies as st

from app.connect.qsh import canonical_request, qsh_for_url, query_string_hash, relative_path

VECTOR_COUNT = 79
DEFAULT_BASE = "https://example.com"


def test_all_reference_vectors_are_present(qsh_vectors: dict[str, Any]) -> None:
    assert len(qsh_vectors["tests"]) == VECTOR_COUNT


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the vectors' short secret
@pytest.mark.parametrize("index", range(VECTOR_COUNT))
def test_reference_vector(qsh_vectors: dict[str, Any], index: int) -> None:
    vector = qsh_vectors["tests"][index]
    url, base = vector["signedUrl"], vector.get("addonBaseUrl", DEFAULT_BASE)
    parts = urlsplit(url)
    assert canonical_request("GET", relative_path(parts.path, base), parts.query) == vector["canonicalUrl"]
    # The qsh signed into the vector's own token (by Atlassian's Java implementation).
    token = parts.query.rsplit("jwt=", 1)[1]
    claims = jwt.decode(token, qsh_vectors["secret"], algorithms=["HS256"], options={"verify_exp": False})
    assert qsh_for_url("GET", url, base) == claims["qsh"]


def test_apostrophe_in_path_stays_literal_and_ampersand_is_encoded() -> None:
    assert canonical_request("get", "/path!$&'()*+,;=/", "a=b") == "GET&/path!$%26'()*+,;=&a=b"


def test_empty_path_is_slash_and_jwt_is_left_out() -> None:
    assert canonical_request("post", "", "jwt=abc") == "POST&/&"


def test_query_given_as_mapping_or_pairs_equals_raw_string() -> None:
    raw = "b=2&a=x+y&a=%C3%A9"
    assert canonical_request("GET", "/p", raw) == canonical_request("GET", "/p", {"a": ["x y", "é"], "b": "2"})
    assert canonical_request("GET", "/p", raw) == canonical_request("GET", "/p", [("b", "2"), ("a", "é"), ("a", "x y")])


def test_url_relative_to_a_product_context_path() -> None:
    base = "https://acme.example/jira"
    url = "https://acme.example/jira/rest/api/3/issue/TW-1?expand=names&fields=summary"
    assert qsh_for_url("GET", url, base) == query_string_hash("GET", "/rest/api/3/issue/TW-1", "expand=names&fields=summary")
    # A path that merely starts with the same letters is not under the context path.
    assert relative_path("/jiraX/rest", base) == "/jiraX/rest"


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
_path = st.lists(st.text(alphabet="abcXYZ019-._~!$'()*+,=:@", min_size=1, max_size=6), max_size=3)


@given(method=st.sampled_from(["GET", "post", "Put"]), segments=_path,
       pairs=st.lists(st.tuples(_text.filter(lambda k: k != "jwt"), _text), max_size=6))
def test_agrees_with_atlassian_jwt(method: str, segments: list[str], pairs: list[tuple[str, str]]) -> None:
    """atlassian-jwt is an independent implementation: both must build the same canonical request."""
    # A first segment with a colon ("/a:b") is read by atlassian-jwt's URL parsing as a scheme, so
    # the generated paths start under /rest as every Jira REST path does; colons stay in later segments.
    path = "/rest/" + "/".join(segments) if segments else "/"
    query = urlencode(pairs)
    url = f"{path}?{query}" if query else path
    assert canonical_request(method, path, query) == canonicalize_request(method, url)
    assert query_string_hash(method, path, query) == hash_url(method, url)
