"""Bearer-token checks on every /api route: 401 for a missing or bad token, 403 for a missing permission."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.api import auth as auth_module
from app.api.auth import PERMISSIONS, READ, WRITE, Authenticator
from app.api.errors import Problem
from app.settings import Settings
from tests.conftest import SECRET, answer_body, answer_status, bearer, expect_problem, problem_view, raw_request, token
from tests.factories import minimal_record

RECORD_ID = "0123456789abcdef01234567"

# (method, path, the permission the route needs)
ROUTES = [
    ("PUT", "/api/orderrecords", WRITE),
    ("GET", "/api/orderrecords", READ),
    ("GET", f"/api/orderrecords/{RECORD_ID}", READ),
]
ROUTE_IDS = ["put-bulk", "get-list", "get-one"]


@pytest.fixture
def store_kind() -> str:
    """Auth does not depend on the store: one embedded store keeps these tests fast."""
    return "sqlite-memory"


async def call(client: TestClient, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if method == "PUT":
        kwargs["json"] = {"operations": [minimal_record()]}
    return await client.request(method, path, **kwargs)


def success_status(path: str) -> int:
    """A request that passes auth: 200, except the single-record GET of an id that is not stored (404)."""
    return 404 if path.endswith(RECORD_ID) else 200


async def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """An official ApiError answer with this status and a request id, read through problem_view."""
    body = await expect_problem(response, status)
    assert response.headers.get("X-Request-ID")
    assert "Traceback" not in await response.text()
    return problem_view(body)


async def assert_unauthorized(response: Any) -> dict[str, Any]:
    body = await assert_problem(response, 401)
    challenge = response.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer"), challenge
    return body


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_by_hand(claims: dict[str, Any], key: bytes, header: dict[str, Any] | None = None) -> str:
    """Sign without PyJWT's key checks: what an attacker could send."""
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


def claims(*permissions: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "t", "iat": now, "exp": now + 600, "permissions": list(permissions), **extra}


def rsa_pair() -> tuple[Any, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, public_pem(key)


def public_pem(private_key: Any) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def auth_header(raw_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_token}"}


@pytest.fixture(scope="module")
def rsa_key() -> tuple[Any, str]:
    return rsa_pair()


@pytest.fixture
async def client_for(aiohttp_client: Any, make_app: Callable[..., web.Application],
                     settings: Settings) -> Callable[..., Any]:
    """A client for the app built with these jwt.* overrides (the secret is cleared unless given)."""

    async def build(**jwt_overrides: str) -> TestClient:
        overrides = {"jwt.secret": "", **{f"jwt.{k}": v for k, v in jwt_overrides.items()}}
        return await aiohttp_client(make_app(settings=settings.replace(overrides)))

    return build


# --- routes that need no token -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/health", "/ready"])
async def test_health_and_ready_need_no_token(client: TestClient, path: str) -> None:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    assert (await response.json())["status"] in {"ok", "ready"}
    assert "WWW-Authenticate" not in response.headers


# --- 401: no usable token ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_no_authorization_header_is_401(client: TestClient, method: str, path: str, permission: str) -> None:
    body = await assert_unauthorized(await call(client, method, path))
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("header", [
    "Basic dXNlcjpwYXNzd29yZA==",
    "Bearer",
    "Bearer    ",
    "Token abc.def.ghi",
    "bearer-ish abc",
    "Bearer not-a-jwt",
    "Bearer a.b.c",
    "Bearer !!!.@@@.###",
    "Bearer eyJhbGciOiJIUzI1NiJ9.%%%%.sig",
    "Bearer eyJhbGciOiJIUzI1NiJ9",
], ids=["basic", "bearer-empty", "bearer-blank", "other-scheme", "scheme-prefix", "garbage", "abc",
        "bad-base64", "bad-base64-payload", "header-only"])
async def test_unusable_authorization_header_is_401(client: TestClient, method: str, path: str, permission: str,
                                                    header: str) -> None:
    await assert_unauthorized(await call(client, method, path, {"Authorization": header}))


@pytest.mark.parametrize("value", [b"Bearer \xff", b"Bearer a.b\xfe.c", b"Bearer \xc3\xa9"],
                         ids=["not-utf8", "not-utf8-inside", "non-ascii"])
async def test_non_ascii_token_bytes_are_401_not_500(client: TestClient, value: bytes) -> None:
    answer = await raw_request(client, b"GET /api/orderrecords HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                       b"Authorization: " + value + b"\r\n\r\n")
    assert answer_status(answer) == 401, answer
    body = json.loads(answer_body(answer))
    assert body[0]["summary"] == "Unauthorized" and b"WWW-Authenticate: Bearer" in answer


async def test_surrogate_token_is_unauthorized(settings: Settings) -> None:
    with pytest.raises(Problem) as raised:
        await Authenticator(settings.jwt).permissions("Bearer \udcff")
    assert raised.value.status == 401


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_expired_token_is_401_saying_expired(client: TestClient, method: str, path: str,
                                                   permission: str) -> None:
    expired = hs256_by_hand(claims(*PERMISSIONS, exp=int(time.time()) - 120), SECRET.encode())
    body = await assert_unauthorized(await call(client, method, path, auth_header(expired)))
    assert "expired" in body["detail"].lower()


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_token_without_exp_is_401(client: TestClient, method: str, path: str, permission: str) -> None:
    no_exp = claims(*PERMISSIONS)
    del no_exp["exp"]
    await assert_unauthorized(await call(client, method, path, auth_header(jwt.encode(no_exp, SECRET))))


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_token_not_yet_valid_is_401(client: TestClient, method: str, path: str, permission: str) -> None:
    future = jwt.encode(claims(*PERMISSIONS, nbf=int(time.time()) + 600), SECRET)
    await assert_unauthorized(await call(client, method, path, auth_header(future)))


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_token_signed_with_another_secret_is_401(client: TestClient, method: str, path: str,
                                                       permission: str) -> None:
    other = token(*PERMISSIONS, secret="another-secret-that-is-also-long-enough-x")
    await assert_unauthorized(await call(client, method, path, auth_header(other)))


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_unsigned_alg_none_token_is_401(client: TestClient, method: str, path: str, permission: str,
                                              alg: str) -> None:
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    unsigned = f"{head}.{b64url(json.dumps(claims(*PERMISSIONS)).encode())}."
    await assert_unauthorized(await call(client, method, path, auth_header(unsigned)))


async def test_tampered_payload_is_401(client: TestClient) -> None:
    head, _, signature = token(READ).split(".")
    forged = f"{head}.{b64url(json.dumps(claims(*PERMISSIONS)).encode())}.{signature}"
    await assert_unauthorized(await client.get("/api/orderrecords", headers=auth_header(forged)))


@pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")
async def test_token_with_other_hmac_algorithm_is_401(client: TestClient) -> None:
    """Only HS256 is accepted with a shared secret, even when the secret itself is right."""
    hs512 = jwt.encode(claims(*PERMISSIONS), SECRET, algorithm="HS512")
    await assert_unauthorized(await client.get("/api/orderrecords", headers=auth_header(hs512)))


# --- 403: a valid token without the permission ----------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_token_lacking_the_permission_is_403(client: TestClient, method: str, path: str,
                                                   permission: str) -> None:
    other = READ if permission == WRITE else WRITE
    body = await assert_problem(await call(client, method, path, bearer(other)), 403)
    assert permission in body["detail"]
    assert body["title"] == "Forbidden"


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("granted", [[], ["ORDER_RECORD_ADMIN"], ["order_record_read", "order_record_write"]],
                         ids=["none", "unrelated", "lower-case"])
async def test_token_without_any_matching_permission_is_403(client: TestClient, method: str, path: str,
                                                            permission: str, granted: list[str]) -> None:
    await assert_problem(await call(client, method, path, bearer(*granted)), 403)


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_token_with_the_permission_passes(client: TestClient, method: str, path: str, permission: str) -> None:
    response = await call(client, method, path, bearer(permission))
    assert response.status == success_status(path), await response.text()
    if method == "PUT":
        assert (await response.json())["details"][0]["status"] == "CREATED"


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_permissions_in_space_separated_scope_claim(client: TestClient, method: str, path: str,
                                                          permission: str) -> None:
    scoped = claims(scope=f"openid {permission} profile")
    del scoped["permissions"]
    response = await call(client, method, path, auth_header(jwt.encode(scoped, SECRET)))
    assert response.status == success_status(path), await response.text()


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=ROUTE_IDS)
async def test_scope_without_the_permission_is_403(client: TestClient, method: str, path: str,
                                                   permission: str) -> None:
    other = READ if permission == WRITE else WRITE
    scoped = claims(scope=f"openid {other}")
    del scoped["permissions"]
    await assert_problem(await call(client, method, path, auth_header(jwt.encode(scoped, SECRET))), 403)


async def test_scope_substring_does_not_grant(client: TestClient) -> None:
    scoped = claims(scope=f"{READ}X X{READ}")
    del scoped["permissions"]
    await assert_problem(await client.get("/api/orderrecords", headers=auth_header(jwt.encode(scoped, SECRET))), 403)


@pytest.mark.parametrize("granted", [READ, {"p": READ}, [[READ]], [{"p": READ}], [1, None]],
                         ids=["string", "object", "nested-list", "list-of-objects", "non-strings"])
async def test_malformed_permissions_claim_is_403_not_500(client: TestClient, granted: Any) -> None:
    odd = jwt.encode(claims() | {"permissions": granted}, SECRET)
    await assert_problem(await client.get("/api/orderrecords", headers=auth_header(odd)), 403)


# --- public keys: RS256 and ES256 ---------------------------------------------------------------------------

async def test_rs256_public_key(client_for: Callable[..., Any], rsa_key: tuple[Any, str]) -> None:
    private, pem = rsa_key
    client = await client_for(public_key=pem)
    good = jwt.encode(claims(READ), private, algorithm="RS256")
    response = await client.get("/api/orderrecords", headers=auth_header(good))
    assert response.status == 200, await response.text()
    assert await response.json() == {"total": 0, "orderRecords": []}

    other_private, _ = rsa_pair()
    foreign = jwt.encode(claims(READ), other_private, algorithm="RS256")
    await assert_unauthorized(await client.get("/api/orderrecords", headers=auth_header(foreign)))
    await assert_unauthorized(await client.get("/api/orderrecords", headers=bearer(READ)))  # HS256, shared secret


async def test_hs256_signed_with_the_public_key_pem_is_401(client_for: Callable[..., Any],
                                                           rsa_key: tuple[Any, str]) -> None:
    """The algorithm-confusion attack: the public key is no HMAC secret."""
    _, pem = rsa_key
    client = await client_for(public_key=pem)
    for key in (pem.encode(), pem.strip().encode()):
        confused = hs256_by_hand(claims(*PERMISSIONS), key)
        await assert_unauthorized(await client.get("/api/orderrecords", headers=auth_header(confused)))


async def test_es256_public_key(client_for: Callable[..., Any], rsa_key: tuple[Any, str]) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    client = await client_for(public_key=public_pem(private))
    good = jwt.encode(claims(WRITE), private, algorithm="ES256")
    response = await client.put("/api/orderrecords", json={"operations": [minimal_record()]},
                                headers=auth_header(good))
    assert response.status == 200, await response.text()

    read_only = jwt.encode(claims(READ), private, algorithm="ES256")
    await assert_problem(await client.put("/api/orderrecords", json={"operations": [minimal_record()]},
                                          headers=auth_header(read_only)), 403)
    foreign = jwt.encode(claims(WRITE), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    await assert_unauthorized(await client.get("/api/orderrecords", headers=auth_header(foreign)))
    rs_signed = jwt.encode(claims(READ), rsa_key[0], algorithm="RS256")
    await assert_unauthorized(await client.get("/api/orderrecords", headers=auth_header(rs_signed)))


# --- issuer and audience -------------------------------------------------------------------------------------

ISS, AUD = "https://issuer.example", "order-records-api"


@pytest.mark.parametrize(("extra", "status"), [
    ({"iss": ISS, "aud": AUD}, 200),
    ({"iss": ISS, "aud": [AUD, "other"]}, 200),
    ({"iss": "https://evil.example", "aud": AUD}, 401),
    ({"iss": ISS, "aud": "someone-else"}, 401),
    ({"aud": AUD}, 401),
    ({"iss": ISS}, 401),
], ids=["right", "aud-list", "wrong-iss", "wrong-aud", "no-iss", "no-aud"])
async def test_issuer_and_audience(client_for: Callable[..., Any], extra: dict[str, Any], status: int) -> None:
    client = await client_for(secret=SECRET, issuer=ISS, audience=AUD)
    response = await client.get("/api/orderrecords", headers=auth_header(jwt.encode(claims(READ, **extra), SECRET)))
    if status == 401:
        await assert_unauthorized(response)
    else:
        assert response.status == 200, await response.text()


async def test_issuer_only(client_for: Callable[..., Any]) -> None:
    client = await client_for(secret=SECRET, issuer=ISS)
    right = jwt.encode(claims(READ, iss=ISS), SECRET)
    assert (await client.get("/api/orderrecords", headers=auth_header(right))).status == 200
    wrong = jwt.encode(claims(READ, iss=ISS + "/x"), SECRET)
    await assert_unauthorized(await client.get("/api/orderrecords", headers=auth_header(wrong)))


# --- JWKS ----------------------------------------------------------------------------------------------------

@pytest.fixture
async def jwks_url(aiohttp_server: Any, rsa_key: tuple[Any, str]) -> str:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key[0].public_key(), as_dict=True)
    document = {"keys": [{**jwk, "kid": "key-1", "use": "sig", "alg": "RS256"}]}

    async def serve_jwks(request: web.Request) -> web.Response:
        return web.json_response(document)

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", serve_jwks)
    server = await aiohttp_server(app)
    return str(server.make_url("/.well-known/jwks.json"))


async def test_jwks_token_with_known_kid(client_for: Callable[..., Any], jwks_url: str,
                                         rsa_key: tuple[Any, str]) -> None:
    client = await client_for(jwks_url=jwks_url)
    good = jwt.encode(claims(READ), rsa_key[0], algorithm="RS256", headers={"kid": "key-1"})
    response = await client.get("/api/orderrecords", headers=auth_header(good))
    assert response.status == 200, await response.text()
    await assert_problem(await client.put("/api/orderrecords", json={"operations": [minimal_record()]},
                                          headers=auth_header(good)), 403)


async def test_jwks_rejects_unknown_kid_missing_kid_and_foreign_signature(
        client_for: Callable[..., Any], jwks_url: str, rsa_key: tuple[Any, str]) -> None:
    client = await client_for(jwks_url=jwks_url)
    unknown_kid = jwt.encode(claims(READ), rsa_key[0], algorithm="RS256", headers={"kid": "key-2"})
    no_kid = jwt.encode(claims(READ), rsa_key[0], algorithm="RS256")
    foreign = jwt.encode(claims(READ), rsa_pair()[0], algorithm="RS256", headers={"kid": "key-1"})
    hs_with_kid = jwt.encode(claims(READ), SECRET, algorithm="HS256", headers={"kid": "key-1"})
    for bad in (unknown_kid, no_kid, foreign, hs_with_kid, "garbage"):
        await assert_unauthorized(await client.get("/api/orderrecords", headers=auth_header(bad)))


async def test_unreachable_jwks_is_503_not_401(client_for: Callable[..., Any], rsa_key: tuple[Any, str]) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = await client_for(jwks_url=f"http://127.0.0.1:{port}/jwks.json")
    good = jwt.encode(claims(READ), rsa_key[0], algorithm="RS256", headers={"kid": "key-1"})
    response = await client.get("/api/orderrecords", headers=auth_header(good))
    await assert_problem(response, 503)
    assert response.headers.get("Retry-After")


# --- nothing secret leaks --------------------------------------------------------------------------------------

async def test_tokens_and_secret_never_logged_or_echoed(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    good = token(*PERMISSIONS)
    read_only = token(READ)
    expired = hs256_by_hand(claims(*PERMISSIONS, exp=int(time.time()) - 60), SECRET.encode())
    wrong_secret = token(*PERMISSIONS, secret="x" * 40)
    basic_credentials = "dXNlcjpzM2NyM3QtcGFzc3dvcmQ="
    secrets_ = [SECRET, good, read_only, expired, wrong_secret, basic_credentials,
                *(t.split(".")[2] for t in (good, read_only, expired, wrong_secret))]
    bodies: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for headers, status in [
            ({"Authorization": f"Bearer {good}"}, 200),
            ({"Authorization": f"Bearer {read_only}"}, 200),
            ({"Authorization": f"Bearer {expired}"}, 401),
            ({"Authorization": f"Bearer {wrong_secret}"}, 401),
            ({"Authorization": f"Basic {basic_credentials}"}, 401),
            ({"Authorization": f"Bearer {good}x"}, 401),
        ]:
            response = await client.get("/api/orderrecords", headers=headers)
            assert response.status == status
            bodies.append(await response.text() + repr(dict(response.headers)))
        for headers, status in [({"Authorization": f"Bearer {read_only}"}, 403),
                                ({"Authorization": f"Bearer {good}"}, 200)]:
            response = await client.put("/api/orderrecords", json={"operations": [minimal_record()]},
                                        headers=headers)
            assert response.status == status
            bodies.append(await response.text() + repr(dict(response.headers)))
    logged = [f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.__dict__!r}" for r in caplog.records]
    for secret in secrets_:
        for text in logged + bodies:
            assert secret not in text


# --- tokens verified once are known until they expire -----------------------------------------------------------

def authenticator(settings: Settings) -> Authenticator:
    return Authenticator(settings.jwt)


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = jwt.decode

    def counting(raw: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(raw)
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(auth_module.jwt, "decode", counting)
    return seen


async def test_a_known_token_is_not_verified_again(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    decodes, auth = count_decodes(monkeypatch), authenticator(settings)
    raw = hs256_by_hand(claims(READ), SECRET.encode())
    assert [await auth.permissions(f"Bearer {raw}") for _ in range(3)] == [frozenset({READ})] * 3
    assert decodes == [raw]


async def test_a_known_token_is_verified_again_after_the_cache_period(settings: Settings,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    decodes, auth = count_decodes(monkeypatch), authenticator(settings)
    raw = hs256_by_hand(claims(READ), SECRET.encode())  # expires in 600 s
    await auth.permissions(f"Bearer {raw}")
    later = time.time() + auth_module.VERIFIED_CACHE_SECONDS + 1
    monkeypatch.setattr(auth_module.time, "time", lambda: later)
    assert await auth.permissions(f"Bearer {raw}") == frozenset({READ})
    assert decodes == [raw, raw]


async def test_rejected_tokens_are_never_remembered(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    decodes, auth = count_decodes(monkeypatch), authenticator(settings)
    forged = hs256_by_hand(claims(READ), b"another-secret-that-is-long-enough")
    for _ in range(2):
        with pytest.raises(Problem) as refused:
            await auth.permissions(f"Bearer {forged}")
        assert refused.value.status == 401
    assert decodes == [forged, forged]


async def test_the_cache_stays_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_module, "VERIFIED_CACHE_SIZE", 3)
    auth = authenticator(settings)
    for n in range(10):
        await auth.permissions(f"Bearer {hs256_by_hand(claims(READ, jti=str(n)), SECRET.encode())}")
        assert len(auth._verified) <= 3


async def test_a_known_token_is_refused_once_it_expires(client: TestClient) -> None:
    expires = int(time.time()) + 2
    raw = hs256_by_hand(claims(*PERMISSIONS, exp=expires), SECRET.encode())
    response = await call(client, "GET", "/api/orderrecords", auth_header(raw))
    assert response.status == 200, await response.text()
    while time.time() < expires:
        time.sleep(0.05)
    body = await assert_unauthorized(await call(client, "GET", "/api/orderrecords", auth_header(raw)))
    assert "expired" in body["detail"].lower()
