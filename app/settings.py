"""Settings: a frozen dataclass built from config/default.toml, environment variables and overrides."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.gdpr import GdprPolicy, days_left

ENV_PREFIX = "ORDER_RECORDS_"
MIN_SECRET_BYTES = 32
# A source checkout (or an editable install) reads config/ beside app/; a wheel installs the same file as data.
_CHECKOUT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "default.toml"
_INSTALLED_CONFIG = Path(sys.prefix) / "share" / "order-records" / "default.toml"
DEFAULT_CONFIG = _CHECKOUT_CONFIG if _CHECKOUT_CONFIG.exists() else _INSTALLED_CONFIG


class SettingsError(ValueError):
    """A setting has a bad value; the message names the setting."""


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    workers: int
    max_body_bytes: int
    body_timeout_seconds: float
    log_level: str


@dataclass(frozen=True)
class SqliteSettings:
    path: str
    read_ahead_pages: int


@dataclass(frozen=True)
class MongoSettings:
    uri: str
    database: str
    server_selection_timeout_ms: int
    connect_timeout_ms: int
    socket_timeout_ms: int


@dataclass(frozen=True)
class JwtSettings:
    secret: str
    public_key: str
    jwks_url: str
    issuer: str
    audience: str

    @property
    def configured(self) -> bool:
        return bool(self.secret or self.public_key or self.jwks_url)


@dataclass(frozen=True)
class GdprSettings:
    """The GDPR configuration's defaults until one is stored (named after its fields), and the sweep's pace."""

    retention_time: int
    deletion_time_after_retention: int
    actor_anonymization: bool
    sweep_interval_seconds: float
    sweep_batch_size: int

    @property
    def policy(self) -> GdprPolicy:
        return GdprPolicy(self.retention_time, self.deletion_time_after_retention, self.actor_anonymization)


@dataclass(frozen=True)
class OrderRecordsSettings:
    """The order-records configuration's default until one is stored."""

    enabled: bool


@dataclass(frozen=True)
class LimitsSettings:
    max_record_bytes: int
    max_record_values: int
    offload_body_bytes: int
    stream_page_bytes: int


@dataclass(frozen=True)
class Settings:
    server: ServerSettings
    sqlite: SqliteSettings
    mongodb: MongoSettings
    jwt: JwtSettings
    gdpr: GdprSettings
    orderrecords: OrderRecordsSettings
    limits: LimitsSettings

    @property
    def uses_mongodb(self) -> bool:
        return bool(self.mongodb.uri)

    def replace(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with dotted-path overrides applied and validated."""
        return _build(_merge(_as_tree(self), overrides, source="override"))


def env_name(dotted: str) -> str:
    return ENV_PREFIX + dotted.replace(".", "_").upper()


def setting_paths() -> list[str]:
    return [f"{section}.{f.name}" for section, cls in _SECTION_TYPES.items() for f in dataclasses.fields(cls)]


def load_settings(
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Defaults file, then ORDER_RECORDS_* environment variables, then explicit overrides (CLI flags)."""
    env = os.environ if env is None else env
    path = config_path or Path(env.get(ENV_PREFIX + "CONFIG") or DEFAULT_CONFIG)
    tree = _read_toml(path)
    from_env = {p: env[env_name(p)] for p in setting_paths() if env_name(p) in env}
    tree = _merge(tree, from_env, source="environment")
    return _build(_merge(tree, overrides or {}, source="override"))


def make_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Defaults plus overrides, ignoring the environment: what tests and tools use."""
    return load_settings(env={}, overrides=overrides)


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read config file {path}: {exc}") from exc


def _as_tree(settings: Settings) -> dict[str, dict[str, Any]]:
    return dataclasses.asdict(settings)


def _merge(tree: dict[str, dict[str, Any]], values: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    merged = {section: dict(items) for section, items in tree.items()}
    known = set(setting_paths())
    for dotted, value in values.items():
        if dotted not in known:
            raise SettingsError(f"unknown setting {dotted!r} ({source})")
        section, name = dotted.split(".", 1)
        merged.setdefault(section, {})[name] = value
    return merged


def _coerce(dotted: str, kind: type, value: Any) -> Any:
    if kind is bool and isinstance(value, str):
        if value.strip().lower() not in _BOOLEANS:
            raise SettingsError(f"setting {dotted} ({env_name(dotted)}) must be true or false, got {value!r}")
        return _BOOLEANS[value.strip().lower()]
    if kind is bool and isinstance(value, bool):
        return value
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        try:
            return kind(text) if kind is not int else int(text, 10)
        except ValueError:
            raise SettingsError(
                f"setting {dotted} ({env_name(dotted)}) must be {kind.__name__}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise SettingsError(f"setting {dotted} ({env_name(dotted)}) must be {kind.__name__}, got {value!r}")
    return value


_SECTION_TYPES = {
    "server": ServerSettings, "sqlite": SqliteSettings, "mongodb": MongoSettings,
    "jwt": JwtSettings, "gdpr": GdprSettings, "orderrecords": OrderRecordsSettings, "limits": LimitsSettings,
}
_TYPES = {"str": str, "int": int, "float": float, "bool": bool}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _build(tree: Mapping[str, Mapping[str, Any]]) -> Settings:
    sections = {}
    for section, cls in _SECTION_TYPES.items():
        values = {}
        for f in dataclasses.fields(cls):
            dotted = f"{section}.{f.name}"
            if f.name not in tree.get(section, {}):
                raise SettingsError(f"setting {dotted} is missing from the config file")
            values[f.name] = _coerce(dotted, _TYPES[str(f.type)], tree[section][f.name])
        sections[section] = cls(**values)
    settings = Settings(**sections)
    _validate(settings)
    return settings


def _usable_public_key(pem: str) -> bool:
    """The key the authenticator can verify with; anything else would fail every token or crash at startup."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return isinstance(key, rsa.RSAPublicKey) or (
        isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1))


def _check(ok: bool, dotted: str, rule: str) -> None:
    if not ok:
        raise SettingsError(f"setting {dotted} ({env_name(dotted)}) {rule}")


def _validate(s: Settings) -> None:
    _check(1 <= s.server.port <= 65535 or s.server.port == 0, "server.port", "must be between 0 and 65535")
    _check(1 <= s.server.workers <= 64, "server.workers", "must be between 1 and 64")
    _check(s.server.max_body_bytes >= 1024, "server.max_body_bytes", "must be at least 1024")
    _check(s.server.body_timeout_seconds > 0, "server.body_timeout_seconds", "must be positive")
    _check(isinstance(logging.getLevelName(s.server.log_level.upper()), int), "server.log_level",
           "must be a logging level such as INFO or DEBUG")
    _check(bool(s.sqlite.path), "sqlite.path", "must not be empty")
    _check(0 <= s.sqlite.read_ahead_pages <= 64, "sqlite.read_ahead_pages", "must be between 0 and 64")
    _check(s.server.workers == 1 or s.sqlite.path != ":memory:" or s.uses_mongodb, "server.workers",
           "must be 1 with an in-memory SQLite store: each process would have a database of its own")
    _check(bool(s.mongodb.database), "mongodb.database", "must not be empty")
    for name in ("server_selection_timeout_ms", "connect_timeout_ms", "socket_timeout_ms"):
        _check(getattr(s.mongodb, name) > 0, f"mongodb.{name}", "must be positive")
    keys = [k for k in ("secret", "public_key", "jwks_url") if getattr(s.jwt, k)]
    _check(len(keys) <= 1, "jwt." + (keys[-1] if keys else "secret"),
           "conflicts with another key setting: configure only one of jwt.secret, jwt.public_key, jwt.jwks_url")
    _check(not s.jwt.secret or len(s.jwt.secret.encode()) >= MIN_SECRET_BYTES, "jwt.secret",
           f"must be at least {MIN_SECRET_BYTES} bytes: an HS256 key as long as its hash (RFC 7518, section 3.2)")
    _check(not s.jwt.public_key or _usable_public_key(s.jwt.public_key), "jwt.public_key",
           "must be a PEM public key: RSA (RS256) or EC P-256 (ES256)")
    _check(not s.jwt.jwks_url or s.jwt.jwks_url.startswith(("https://", "http://")), "jwt.jwks_url",
           "must be an http(s) URL")
    g = s.gdpr
    _check(g.retention_time >= 1, "gdpr.retention_time", "must be at least 1 day")
    _check(g.deletion_time_after_retention >= 1, "gdpr.deletion_time_after_retention", "must be at least 1 day")
    limit = days_left(datetime.now(UTC))
    _check(g.retention_time + g.deletion_time_after_retention <= limit, "gdpr.deletion_time_after_retention",
           f"together with gdpr.retention_time must be at most {limit} days: a record dated today would be deleted "
           "after the year 9999")
    _check(g.sweep_interval_seconds > 0, "gdpr.sweep_interval_seconds", "must be positive")
    _check(1 <= g.sweep_batch_size <= 10000, "gdpr.sweep_batch_size", "must be between 1 and 10000")
    limits = s.limits
    _check(limits.max_record_bytes >= 1024, "limits.max_record_bytes", "must be at least 1024")
    _check(limits.max_record_values >= 100, "limits.max_record_values", "must be at least 100")
    _check(limits.offload_body_bytes >= 0, "limits.offload_body_bytes", "must be 0 or more")
    _check(limits.stream_page_bytes >= 65536, "limits.stream_page_bytes", "must be at least 65536")
