"""Tokens built to break the checks: key-type confusion with JWKS, non-numeric dates, two Authorization headers."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from multidict import CIMultiDict

from app.api.auth import PERMISSIONS, READ, issue_token
from app.settings import Settings
from tests.conftest import SECRET

# aiohttp's parser limit for one header line (its max_field_size); README "Limits and guarantees" states it
HEADER_LIMIT = 8190


@pytest.fixture
def store_kind() -> str:
    return "sqlite-memory"


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "t", "iat": now, "exp": now + 600, "permissions": [READ], **extra}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A token with a junk signature: all an attacker needs to reach the key selection."""
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}.{b64url(b'x' * 64)}"


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1())}


@pytest.fixture
async def jwks_client(aiohttp_client: Any, aiohttp_server: Any, make_app: Callable[..., web.Application],
                      settings: Settings, keys: dict[str, Any]) -> TestClient:
    document = {"keys": [
        {**jwt.algorithms.RSAAlgorithm.to_jwk(keys["rsa"].public_key(), as_dict=True), "kid": "rsa-1", "use": "sig"},
        {**jwt.algorithms.ECAlgorithm.to_jwk(keys["ec"].public_key(), as_dict=True), "kid": "ec-1", "use": "sig"},
    ]}

    async def serve_jwks(request: web.Request) -> web.Response:
        return web.json_response(document)

    jwks = web.Application()
    jwks.router.add_get("/jwks.json", serve_jwks)
    server = await aiohttp_server(jwks)
    overrides = {"jwt.secret": "", "jwt.jwks_url": str(server.make_url("/jwks.json"))}
    return await aiohttp_client(make_app(settings=settings.replace(overrides)))


async def test_jwks_tokens_of_both_key_types_are_accepted(jwks_client: TestClient, keys: dict[str, Any]) -> None:
    for alg, kid in (("RS256", "rsa-1"), ("ES256", "ec-1")):
        good = jwt.encode(claims(), keys[kid.split("-")[0]], algorithm=alg, headers={"kid": kid})
        response = await jwks_client.get("/api/orderrecords", headers=bearer(good))
        assert response.status == 200, (alg, await response.text())


@pytest.mark.parametrize(("alg", "kid"), [("ES256", "rsa-1"), ("RS256", "ec-1"), ("HS256", "rsa-1"),
                                          ("PS256", "rsa-1"), ("ES384", "ec-1"), ("EdDSA", "ec-1")])
async def test_jwks_alg_that_does_not_fit_the_key_is_401_not_500(
        jwks_client: TestClient, caplog: pytest.LogCaptureFixture, alg: str, kid: str) -> None:
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            response = await jwks_client.get("/api/orderrecords", headers=bearer(unsigned({"alg": alg, "kid": kid},
                                                                                         claims())))
            assert response.status == 401, await response.text()
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_jwks_token_signed_by_the_other_key_type_is_401(jwks_client: TestClient,
                                                              keys: dict[str, Any]) -> None:
    signed_by_ec_naming_rsa = jwt.encode(claims(), keys["ec"], algorithm="ES256", headers={"kid": "rsa-1"})
    response = await jwks_client.get("/api/orderrecords", headers=bearer(signed_by_ec_naming_rsa))
    assert response.status == 401, await response.text()


@pytest.mark.parametrize("extra", [
    {"exp": str(int(time.time()) + 600)},
    {"exp": f"{int(time.time()) + 600}.0"},
    {"nbf": str(int(time.time()) - 10)},
    {"iat": str(int(time.time()))},
    {"exp": True, "iat": True},
], ids=["exp-string", "exp-decimal-string", "nbf-string", "iat-string", "booleans"])
async def test_date_claims_must_be_json_numbers(client: TestClient, extra: dict[str, Any]) -> None:
    response = await client.get("/api/orderrecords", headers=bearer(jwt.encode(claims(**extra), SECRET)))
    assert response.status == 401, await response.text()


async def test_numeric_date_claims_still_pass(client: TestClient) -> None:
    now = time.time()
    fractional = claims(exp=now + 600.5, nbf=now - 10.25, iat=now)
    response = await client.get("/api/orderrecords", headers=bearer(jwt.encode(fractional, SECRET)))
    assert response.status == 200, await response.text()


async def test_a_string_exp_is_refused_even_after_a_good_token_was_seen(client: TestClient) -> None:
    """The verified-token cache must not make the order of requests matter."""
    assert (await client.get("/api/orderrecords", headers=bearer(jwt.encode(claims(), SECRET)))).status == 200
    stringy = jwt.encode(claims(exp=str(int(time.time()) + 600)), SECRET)
    assert (await client.get("/api/orderrecords", headers=bearer(stringy))).status == 401
    assert (await client.get("/api/orderrecords", headers=bearer(stringy))).status == 401


@pytest.mark.parametrize("second", ["good", "bad"])
async def test_two_authorization_headers_are_refused(client: TestClient, second: str) -> None:
    good = issue_token(SECRET, PERMISSIONS)
    other = good if second == "good" else "not-a-token"
    headers = CIMultiDict([("Authorization", f"Bearer {good}"), ("Authorization", f"Bearer {other}")])
    for method, path in (("GET", "/api/orderrecords"), ("GET", "/api/orderrecords/0123456789abcdef01234567")):
        response = await client.request(method, path, headers=headers)
        assert response.status == 400, await response.text()
        assert "Authorization" in await response.text()


async def test_one_authorization_header_still_works(client: TestClient) -> None:
    headers = CIMultiDict([("Authorization", f"Bearer {issue_token(SECRET, PERMISSIONS)}"), ("X-Other", "1")])
    assert (await client.get("/api/orderrecords", headers=headers)).status == 200


async def test_header_limit_is_what_the_readme_says(client: TestClient) -> None:
    # "Authorization: " is not part of the field's value size; Bearer + token up to the limit still reaches us
    at_limit = "Bearer " + "a" * (HEADER_LIMIT - len("Bearer "))
    assert (await client.get("/api/orderrecords", headers={"Authorization": at_limit})).status == 401
    over = at_limit + "a"
    assert (await client.get("/api/orderrecords", headers={"Authorization": over})).status == 400


def test_issued_tokens_stay_far_below_the_header_limit() -> None:
    longest = issue_token("s" * 64, PERMISSIONS, 10 ** 9, subject="s" * 256, issuer="https://" + "i" * 200,
                          audience="a" * 200)
    assert len("Bearer " + longest) < HEADER_LIMIT // 4
