"""Settings: defaults from config/default.toml, ORDER_RECORDS_* environment variables, overrides, validation."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from app.domain.gdpr import GdprPolicy
from app.settings import DEFAULT_CONFIG, Settings, SettingsError, env_name, load_settings, make_settings, setting_paths


def public_pem(private_key: Any) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


PEM = public_pem(ec.generate_private_key(ec.SECP256R1()))  # a usable ES256 verification key


def value(settings: Settings, dotted: str) -> Any:
    section, name = dotted.split(".")
    return getattr(getattr(settings, section), name)


# --- defaults ------------------------------------------------------------------------------------------------

def test_defaults_come_from_the_config_file() -> None:
    s = make_settings()
    assert (s.server.host, s.server.port, s.server.workers) == ("127.0.0.1", 8080, 1)
    assert s.server.max_body_bytes == 8 * 1024 * 1024
    assert s.server.log_level == "INFO"
    assert s.sqlite.path == "data/orderrecords.sqlite3"
    assert s.sqlite.read_ahead_pages == 4
    assert s.mongodb.uri == "" and s.mongodb.database == "orderrecords"
    assert (s.mongodb.server_selection_timeout_ms, s.mongodb.connect_timeout_ms, s.mongodb.socket_timeout_ms) == (
        5000, 5000, 20000)
    assert s.jwt == type(s.jwt)(secret="", public_key="", jwks_url="", issuer="", audience="")
    assert not s.jwt.configured
    assert not s.uses_mongodb
    assert (s.gdpr.retention_time, s.gdpr.deletion_time_after_retention) == (90, 3560)
    assert s.gdpr.actor_anonymization is True and s.orderrecords.enabled is True
    assert s.gdpr.sweep_interval_seconds == 60.0 and isinstance(s.gdpr.sweep_interval_seconds, float)
    assert s.gdpr.sweep_batch_size == 500


def test_every_setting_is_in_the_config_file_with_its_value() -> None:
    with DEFAULT_CONFIG.open("rb") as fh:
        tree = tomllib.load(fh)
    s = make_settings()
    for dotted in setting_paths():
        section, name = dotted.split(".")
        assert name in tree[section], dotted
        assert value(s, dotted) == tree[section][name], dotted


def test_make_settings_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDER_RECORDS_SERVER_PORT", "9999")
    monkeypatch.setenv("ORDER_RECORDS_MONGODB_URI", "mongodb://example:27017")
    s = make_settings()
    assert s.server.port == 8080 and s.mongodb.uri == ""


def test_load_settings_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDER_RECORDS_SERVER_PORT", "9999")
    assert load_settings().server.port == 9999


# --- environment ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("dotted", "name"), [
    ("mongodb.uri", "ORDER_RECORDS_MONGODB_URI"),
    ("gdpr.retention_time", "ORDER_RECORDS_GDPR_RETENTION_TIME"),
    ("orderrecords.enabled", "ORDER_RECORDS_ORDERRECORDS_ENABLED"),
    ("sqlite.path", "ORDER_RECORDS_SQLITE_PATH"),
    ("jwt.secret", "ORDER_RECORDS_JWT_SECRET"),
    ("jwt.public_key", "ORDER_RECORDS_JWT_PUBLIC_KEY"),
    ("jwt.jwks_url", "ORDER_RECORDS_JWT_JWKS_URL"),
    ("server.max_body_bytes", "ORDER_RECORDS_SERVER_MAX_BODY_BYTES"),
    ("mongodb.server_selection_timeout_ms", "ORDER_RECORDS_MONGODB_SERVER_SELECTION_TIMEOUT_MS"),
])
def test_env_names(dotted: str, name: str) -> None:
    assert env_name(dotted) == name


def test_env_overrides_apply() -> None:
    s = load_settings(env={
        "ORDER_RECORDS_MONGODB_URI": "mongodb://db.example:27017/?replicaSet=rs0",
        "ORDER_RECORDS_GDPR_RETENTION_TIME": "30",
        "ORDER_RECORDS_GDPR_DELETION_TIME_AFTER_RETENTION": " 400 ",
        "ORDER_RECORDS_GDPR_ACTOR_ANONYMIZATION": " False ",
        "ORDER_RECORDS_ORDERRECORDS_ENABLED": "0",
        "ORDER_RECORDS_SQLITE_PATH": "/var/lib/orders.sqlite3",
        "ORDER_RECORDS_SERVER_PORT": "9090",
        "ORDER_RECORDS_GDPR_SWEEP_INTERVAL_SECONDS": "2.5",
        "ORDER_RECORDS_JWT_SECRET": "s3cret-" + "x" * 32,
        "UNRELATED": "x",
        "ORDER_RECORDS": "x",
    })
    assert s.mongodb.uri == "mongodb://db.example:27017/?replicaSet=rs0" and s.uses_mongodb
    assert s.gdpr.retention_time == 30 and s.gdpr.deletion_time_after_retention == 400
    assert s.gdpr.actor_anonymization is False and s.orderrecords.enabled is False
    assert s.sqlite.path == "/var/lib/orders.sqlite3"
    assert s.server.port == 9090
    assert s.gdpr.sweep_interval_seconds == 2.5
    assert s.jwt.secret == "s3cret-" + "x" * 32 and s.jwt.configured
    assert s.server.host == "127.0.0.1"  # untouched


def test_env_names_are_case_sensitive_and_exact() -> None:
    s = load_settings(env={"order_records_server_port": "1", "ORDER_RECORDS_SERVER_PORT_": "2",
                           "ORDER_RECORDS_PORT": "3"})
    assert s.server.port == 8080


def test_overrides_beat_the_environment() -> None:
    env = {"ORDER_RECORDS_SERVER_PORT": "9000", "ORDER_RECORDS_SQLITE_PATH": "from-env.sqlite3"}
    s = load_settings(env=env, overrides={"server.port": 9100})
    assert s.server.port == 9100
    assert s.sqlite.path == "from-env.sqlite3"


def test_config_file_from_env(tmp_path: Path) -> None:
    text = DEFAULT_CONFIG.read_text().replace("port = 8080", "port = 7070")
    config = tmp_path / "custom.toml"
    config.write_text(text)
    assert load_settings(env={"ORDER_RECORDS_CONFIG": str(config)}).server.port == 7070
    assert load_settings(env={}, config_path=config).server.port == 7070


def test_missing_or_broken_config_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="config"):
        load_settings(env={"ORDER_RECORDS_CONFIG": str(tmp_path / "absent.toml")})
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\nport = ")
    with pytest.raises(SettingsError, match="config"):
        load_settings(env={}, config_path=broken)
    partial = tmp_path / "partial.toml"
    partial.write_text(DEFAULT_CONFIG.read_text().replace("port = 8080\n", ""))
    with pytest.raises(SettingsError, match=r"server\.port"):
        load_settings(env={}, config_path=partial)


# --- bad values stop with an error that names the setting ---------------------------------------------------

@pytest.mark.parametrize(("env", "named"), [
    ({"ORDER_RECORDS_SERVER_PORT": "http"}, "server.port"),
    ({"ORDER_RECORDS_SERVER_PORT": "80.5"}, "server.port"),
    ({"ORDER_RECORDS_SERVER_PORT": ""}, "server.port"),
    ({"ORDER_RECORDS_SERVER_PORT": "70000"}, "server.port"),
    ({"ORDER_RECORDS_SERVER_PORT": "-1"}, "server.port"),
    ({"ORDER_RECORDS_SERVER_WORKERS": "0"}, "server.workers"),
    ({"ORDER_RECORDS_SERVER_MAX_BODY_BYTES": "10"}, "server.max_body_bytes"),
    ({"ORDER_RECORDS_SERVER_LOG_LEVEL": "LOUD"}, "server.log_level"),
    ({"ORDER_RECORDS_SERVER_LOG_LEVEL": ""}, "server.log_level"),
    ({"ORDER_RECORDS_SQLITE_PATH": ""}, "sqlite.path"),
    ({"ORDER_RECORDS_SQLITE_READ_AHEAD_PAGES": "-1"}, "sqlite.read_ahead_pages"),
    ({"ORDER_RECORDS_SQLITE_READ_AHEAD_PAGES": "65"}, "sqlite.read_ahead_pages"),
    ({"ORDER_RECORDS_MONGODB_DATABASE": ""}, "mongodb.database"),
    ({"ORDER_RECORDS_MONGODB_CONNECT_TIMEOUT_MS": "0"}, "mongodb.connect_timeout_ms"),
    ({"ORDER_RECORDS_GDPR_RETENTION_TIME": "ninety"}, "gdpr.retention_time"),
    ({"ORDER_RECORDS_GDPR_RETENTION_TIME": "0"}, "gdpr.retention_time"),
    ({"ORDER_RECORDS_GDPR_DELETION_TIME_AFTER_RETENTION": "0"}, "gdpr.deletion_time_after_retention"),
    ({"ORDER_RECORDS_GDPR_RETENTION_TIME": "3000000"}, "gdpr.deletion_time_after_retention"),
    ({"ORDER_RECORDS_GDPR_ACTOR_ANONYMIZATION": "yes please"}, "gdpr.actor_anonymization"),
    ({"ORDER_RECORDS_ORDERRECORDS_ENABLED": ""}, "orderrecords.enabled"),
    ({"ORDER_RECORDS_GDPR_SWEEP_INTERVAL_SECONDS": "0"}, "gdpr.sweep_interval_seconds"),
    ({"ORDER_RECORDS_GDPR_SWEEP_INTERVAL_SECONDS": "nan"}, "gdpr.sweep_interval_seconds"),
    ({"ORDER_RECORDS_GDPR_SWEEP_BATCH_SIZE": "0"}, "gdpr.sweep_batch_size"),
    ({"ORDER_RECORDS_JWT_PUBLIC_KEY": "not a pem"}, "jwt.public_key"),
    ({"ORDER_RECORDS_JWT_JWKS_URL": "ftp://keys.example/jwks"}, "jwt.jwks_url"),
])
def test_bad_env_value_names_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env=env)
    assert named in str(caught.value)


def test_non_int_port_names_setting_and_env_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env={"ORDER_RECORDS_SERVER_PORT": "eighty"})
    message = str(caught.value)
    assert "server.port" in message and "ORDER_RECORDS_SERVER_PORT" in message and "eighty" in message


def test_retention_beyond_the_date_range_is_refused() -> None:
    with pytest.raises(SettingsError) as caught:
        make_settings({"gdpr.retention_time": 1_000_000, "gdpr.deletion_time_after_retention": 2_000_000})
    assert "gdpr.deletion_time_after_retention" in str(caught.value) and "9999" in str(caught.value)
    fits = make_settings({"gdpr.retention_time": 1, "gdpr.deletion_time_after_retention": 1})
    assert fits.gdpr.policy == GdprPolicy(1, 1, True)


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), ("true", True), ("FALSE", False)])
def test_booleans_from_toml_or_text(value: Any, expected: bool) -> None:
    assert make_settings({"orderrecords.enabled": value}).orderrecords.enabled is expected


@pytest.mark.parametrize("value", [1, 0, "maybe", 1.0])
def test_a_boolean_setting_takes_only_a_boolean(value: Any) -> None:
    with pytest.raises(SettingsError, match=r"gdpr\.actor_anonymization"):
        make_settings({"gdpr.actor_anonymization": value})


@pytest.mark.parametrize("keys", [
    {"jwt.secret": "s" * 32, "jwt.public_key": PEM},
    {"jwt.secret": "s" * 32, "jwt.jwks_url": "https://idp.example/jwks.json"},
    {"jwt.public_key": PEM, "jwt.jwks_url": "https://idp.example/jwks.json"},
    {"jwt.secret": "s" * 32, "jwt.public_key": PEM, "jwt.jwks_url": "https://idp.example/jwks.json"},
], ids=["secret+pem", "secret+jwks", "pem+jwks", "all-three"])
def test_two_jwt_keys_at_once_are_refused(keys: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as caught:
        make_settings(keys)
    message = str(caught.value)
    assert "jwt." in message
    assert "jwt.secret" in message and "jwt.public_key" in message and "jwt.jwks_url" in message
    env = {env_name(k): v for k, v in keys.items()}
    with pytest.raises(SettingsError, match=r"jwt\."):
        load_settings(env=env)


@pytest.mark.parametrize("key", [{"jwt.secret": "s" * 32}, {"jwt.public_key": PEM},
                                 {"jwt.jwks_url": "https://idp.example/jwks.json"}])
def test_exactly_one_jwt_key_is_fine(key: dict[str, str]) -> None:
    assert make_settings(key).jwt.configured


def test_usable_public_keys_are_accepted() -> None:
    rsa_pem = public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert make_settings({"jwt.public_key": rsa_pem}).jwt.public_key == rsa_pem
    assert make_settings({"jwt.public_key": PEM}).jwt.public_key == PEM


def _private_pem() -> str:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


@pytest.mark.parametrize("make_pem", [
    lambda: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",  # truncated
    lambda: PEM.replace("\n", "\\n"),  # newlines escaped, as pasted into some env files
    lambda: PEM[:-30],
    lambda: public_pem(ed25519.Ed25519PrivateKey.generate()),  # no RS256/ES256 key
    lambda: public_pem(ec.generate_private_key(ec.SECP384R1())),  # ES384, not ES256
    _private_pem,
], ids=["truncated", "escaped-newlines", "cut-off", "ed25519", "p-384", "private-key"])
def test_unusable_public_key_is_a_settings_error(make_pem: Any) -> None:
    """Caught at startup with the setting's name, not as a crash when the app is built or a 401 for every token."""
    with pytest.raises(SettingsError) as caught:
        load_settings(env={"ORDER_RECORDS_JWT_PUBLIC_KEY": make_pem()})
    assert "jwt.public_key" in str(caught.value) and "ORDER_RECORDS_JWT_PUBLIC_KEY" in str(caught.value)


@pytest.mark.parametrize("level", ["DEBUG", "info", "Warning", "ERROR", "CRITICAL"])
def test_log_levels(level: str) -> None:
    assert make_settings({"server.log_level": level}).server.log_level == level


@pytest.mark.parametrize("level", ["LOUD", "verbose", "Level 5", "TRACE"])
def test_bad_log_level(level: str) -> None:
    with pytest.raises(SettingsError, match=r"server\.log_level"):
        make_settings({"server.log_level": level})


@pytest.mark.parametrize("key", ["server.bogus", "bogus.port", "port", "jwt", "server.port.x", "SERVER.PORT", ""])
def test_unknown_override_key(key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        make_settings({key: 1})
    assert "unknown setting" in str(caught.value)
    assert repr(key) in str(caught.value)


@pytest.mark.parametrize(("dotted", "bad"), [
    ("server.port", "8080x"), ("server.port", 80.0), ("server.port", True), ("server.port", None),
    ("server.workers", [1]), ("jwt.secret", 123), ("sqlite.path", None), ("gdpr.sweep_batch_size", 1.5),
    ("gdpr.sweep_interval_seconds", False),
])
def test_wrong_override_types_name_the_setting(dotted: str, bad: Any) -> None:
    with pytest.raises(SettingsError, match=dotted.replace(".", r"\.")):
        make_settings({dotted: bad})


def test_override_strings_are_coerced() -> None:
    s = make_settings({"server.port": "8181", "gdpr.sweep_interval_seconds": 5})
    assert s.server.port == 8181 and isinstance(s.server.port, int)
    assert s.gdpr.sweep_interval_seconds == 5.0 and isinstance(s.gdpr.sweep_interval_seconds, float)


# --- frozen, and replace() -----------------------------------------------------------------------------------

def test_settings_are_frozen() -> None:
    s = make_settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.server.port = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.jwt = s.jwt  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.gdpr.retention_time = 0  # type: ignore[misc]
    assert s.server.port == 8080


def test_replace_returns_a_validated_copy() -> None:
    s = make_settings()
    t = s.replace({"server.max_body_bytes": 2048, "jwt.secret": "x" * 32})
    assert t.server.max_body_bytes == 2048 and t.jwt.secret == "x" * 32
    assert s.server.max_body_bytes == 8 * 1024 * 1024 and s.jwt.secret == ""
    assert t.gdpr == s.gdpr and t.mongodb == s.mongodb
    with pytest.raises(SettingsError, match=r"server\.max_body_bytes"):
        s.replace({"server.max_body_bytes": 10})
    with pytest.raises(SettingsError, match="unknown setting"):
        s.replace({"server.nope": 1})
    with pytest.raises(SettingsError, match=r"jwt\."):
        t.replace({"jwt.jwks_url": "https://idp.example/jwks.json"})


def test_settings_are_hashable_and_comparable() -> None:
    assert make_settings() == make_settings()
    assert hash(make_settings()) == hash(make_settings())
    assert make_settings({"server.port": 1}) != make_settings()


def test_several_workers_need_a_shared_database() -> None:
    with pytest.raises(SettingsError, match=r"server\.workers"):
        make_settings({"sqlite.path": ":memory:", "server.workers": 2})
    assert make_settings({"sqlite.path": "x.sqlite3", "server.workers": 2}).server.workers == 2
    assert make_settings({"sqlite.path": ":memory:", "mongodb.uri": "mongodb://h", "server.workers": 2})


@pytest.mark.parametrize(("secret", "ok"), [("x" * 31, False), ("é" * 16, True), ("x" * 32, True), ("", True)])
def test_a_jwt_secret_is_at_least_32_bytes(secret: str, ok: bool) -> None:
    """RFC 7518 3.2; and the log redaction replaces the secret wherever it appears, which a short one would garble."""
    if ok:
        assert make_settings({"jwt.secret": secret}).jwt.secret == secret
    else:
        with pytest.raises(SettingsError, match=r"jwt\.secret .* at least 32 bytes"):
            make_settings({"jwt.secret": secret})
