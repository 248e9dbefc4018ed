"""Bearer-token checks (PyJWT) and the permission each route needs."""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Iterable
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from app.api.errors import Handler, Problem
from app.settings import JwtSettings

READ = "ORDER_RECORD_READ"
WRITE = "ORDER_RECORD_WRITE"
CONFIG_READ = "CONFIG_READ"
CONFIG_WRITE = "CONFIG_WRITE"
PERMISSIONS = (READ, WRITE, CONFIG_READ, CONFIG_WRITE)
CHALLENGE = 'Bearer realm="order-records"'
VERIFIED_CACHE_SIZE = 1024
VERIFIED_CACHE_SECONDS = 60  # how long a known token outlives a change of the configured keys, at most
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


def algorithms_for(key: Any) -> list[str]:
    """The one algorithm a public key verifies here (none for any other key): a token's `alg` must fit its key."""
    if isinstance(key, rsa.RSAPublicKey):
        return ["RS256"]
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return ["ES256"]
    return []


def _numeric_date(value: Any) -> bool:
    """RFC 7519's NumericDate is a JSON number; PyJWT also takes "1796013145" or true, this service does not."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": CHALLENGE})


def issue_token(secret: str, permissions: Iterable[str], ttl_seconds: int = 3600, *, subject: str = "dev",
                issuer: str = "", audience: str = "") -> str:
    """An HS256 token with the given permissions: for development, tests and scripts."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + ttl_seconds, "permissions": list(permissions)}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


class Authenticator:
    """Verifies tokens against exactly one configured key: a secret, a PEM public key or a JWKS URL."""

    def __init__(self, settings: JwtSettings) -> None:
        self.settings = settings
        # A token verified once is known until it expires (at most VERIFIED_CACHE_SECONDS): clients send the same
        # token with every request, and verifying it again cost 30-110 µs each time.
        self._verified: dict[str, tuple[frozenset[str], float]] = {}
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300) if settings.jwks_url else None
        if settings.secret:
            self._key: Any = settings.secret
            self._algorithms = ["HS256"]
        elif settings.public_key:
            self._key = load_pem_public_key(settings.public_key.encode())
            self._algorithms = algorithms_for(self._key)
        else:
            self._key, self._algorithms = None, []

    async def _signing_key(self, token: str) -> tuple[Any, list[str]]:
        """The key to verify `token` with, and the algorithms it allows."""
        if self._jwks is None:
            return self._key, self._algorithms
        try:
            found = await asyncio.get_running_loop().run_in_executor(
                None, self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError:
            raise Problem(503, "Service Unavailable", "The token signing keys cannot be fetched; retry later.",
                          headers={"Retry-After": "5"}) from None
        # By the key's type, not the token's word: an ES256 token naming an RSA key's kid made PyJWT raise
        # TypeError (a 500 any caller could provoke); now its alg is simply not allowed (401).
        return found.key, algorithms_for(found.key)

    async def permissions(self, header: str | None) -> frozenset[str]:
        if not header:
            raise unauthorized("An Authorization: Bearer <token> header is required.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("The Authorization header must be 'Bearer <token>'.")
        token = token.strip()
        # aiohttp hands non-UTF-8 header bytes over as lone surrogates, on which PyJWT fails with a UnicodeError
        if not token.isascii():
            raise unauthorized("The token is not valid: a JWT is ASCII only.")
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        try:
            key, algorithms = await self._signing_key(token)
            claims = jwt.decode(
                token, key, algorithms=algorithms,
                issuer=self.settings.issuer or None, audience=self.settings.audience or None,
                options={"require": ["exp"], "verify_aud": bool(self.settings.audience)},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("The token has expired.") from None
        except jwt.PyJWTError as exc:
            raise unauthorized(f"The token is not valid: {type(exc).__name__}.") from None
        bad_dates = [name for name in NUMERIC_DATE_CLAIMS if name in claims and not _numeric_date(claims[name])]
        if bad_dates:
            raise unauthorized(f"The token is not valid: {', '.join(bad_dates)} must be a number (RFC 7519).")
        granted = claims.get("permissions")
        perms = {p for p in granted if isinstance(p, str)} if isinstance(granted, list) else set()
        scope = claims.get("scope")
        if isinstance(scope, str):
            perms.update(scope.split())
        granted_perms = frozenset(perms)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        # PyJWT took int(exp) and found it in the future; nbf and iat, checked now, stay true as time moves on.
        self._verified[token] = (granted_perms, min(int(claims["exp"]), time.time() + VERIFIED_CACHE_SECONDS))
        return granted_perms


AUTHENTICATOR = web.AppKey("authenticator", Authenticator)


def requires(permission: str) -> Any:
    """Route decorator: a valid bearer token carrying `permission`, else 401/403."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            headers = request.headers.getall("Authorization", [])
            if len(headers) > 1:  # which one counts would be a guess; a proxy may have added one
                raise Problem(400, "Bad Request", "Send one Authorization header, not several.")
            granted = await request.app[AUTHENTICATOR].permissions(headers[0] if headers else None)
            if permission not in granted:
                raise Problem(403, "Forbidden", f"The token lacks the permission {permission}.")
            return await handler(request)

        checked.required_permission = permission  # type: ignore[attr-defined]
        return checked

    return decorate
