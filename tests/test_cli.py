"""The command line: `token`, serving (refusals and the dev secret), `gdpr-sweep`, and `python -m app` for real."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import app.__main__ as cli
from app.api.auth import PERMISSIONS, READ, WRITE, Authenticator
from app.serving import Listeners
from app.settings import Settings, make_settings
from tests.conftest import SECRET
from tests.processes import clean_env, free_port, http_get

KEY_ENV_NAMES = ("ORDER_RECORDS_JWT_SECRET", "ORDER_RECORDS_JWT_PUBLIC_KEY", "ORDER_RECORDS_JWT_JWKS_URL")


def public_pem(private_key: Any) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


PEM = public_pem(ec.generate_private_key(ec.SECP256R1()))  # a usable ES256 verification key


class QuietStopSwitch(cli.StopSwitch):
    """Installs no signal handlers in the test process."""

    def install(self) -> None:
        pass


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Settings]:
    """No ORDER_RECORDS_* variable leaks in, and nothing in this process ever listens: serving is recorded."""
    for name in list(os.environ):
        if name.startswith("ORDER_RECORDS_"):
            monkeypatch.delenv(name)
    served: list[Settings] = []

    def fake_serve_worker(settings: Settings, sockets: list[socket.socket], index: int, stop: Any,
                          on_ready: Callable[[], None]) -> None:
        served.append(settings)
        on_ready()

    def no_workers(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no worker process may be started in a test")

    monkeypatch.setattr(cli, "serve_worker", fake_serve_worker)
    monkeypatch.setattr(cli, "supervise", no_workers)
    monkeypatch.setattr(cli, "StopSwitch", QuietStopSwitch)
    monkeypatch.setattr(cli, "bind_listeners", lambda server: Listeners([[]], server.port or 54321))
    monkeypatch.chdir(tmp_path)  # a default data/ directory would land here, not in the checkout
    return served


def decode(token: str, secret: str = SECRET, **kwargs: Any) -> dict[str, Any]:
    return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]}, **kwargs)


async def granted(settings: Settings, token: str) -> frozenset[str]:
    return await Authenticator(settings.jwt).permissions(f"Bearer {token}")


# --- token ---------------------------------------------------------------------------------------------------

async def test_token_with_one_permission(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ORDER_RECORDS_JWT_SECRET", SECRET)
    before = int(time.time())
    assert cli.main(["token", "--permissions", "ORDER_RECORD_READ"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    printed = out.strip()
    assert "\n" not in printed
    claims = decode(printed)
    assert claims["permissions"] == ["ORDER_RECORD_READ"]
    assert before + 3600 <= claims["exp"] <= int(time.time()) + 3600
    assert claims["sub"] == "cli"
    assert await granted(make_settings({"jwt.secret": SECRET}), printed) == {READ}
    with pytest.raises(jwt.InvalidSignatureError):
        decode(printed, secret="another-secret-that-is-long-enough-for-hs256")


def test_token_defaults_to_both_permissions(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ORDER_RECORDS_JWT_SECRET", SECRET)
    assert cli.main(["token"]) == 0
    assert sorted(decode(capsys.readouterr().out.strip())["permissions"]) == sorted(PERMISSIONS)


def test_token_options(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ORDER_RECORDS_JWT_SECRET", SECRET)
    monkeypatch.setenv("ORDER_RECORDS_JWT_ISSUER", "https://issuer.example")
    monkeypatch.setenv("ORDER_RECORDS_JWT_AUDIENCE", "order-records")
    assert cli.main(["token", "--permissions", f" {WRITE} , {READ},", "--ttl", "60", "--subject", "robot"]) == 0
    claims = decode(capsys.readouterr().out.strip(), issuer="https://issuer.example", audience="order-records")
    assert claims["permissions"] == [WRITE, READ]
    assert claims["sub"] == "robot"
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize("env", [{"ORDER_RECORDS_SQLITE_PATH": ":memory:"},
                                 {"ORDER_RECORDS_MONGODB_URI": "mongodb://127.0.0.1:1"},
                                 {"ORDER_RECORDS_JWT_PUBLIC_KEY": PEM},
                                 {"ORDER_RECORDS_JWT_JWKS_URL": "https://idp.example/jwks.json"}],
                         ids=["in-memory", "mongodb", "public-key", "jwks"])
def test_token_without_a_secret_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                        env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["token", "--permissions", READ]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error:")
    assert "ORDER_RECORDS_JWT_SECRET" in err
    assert list(Path().iterdir()) == []  # no development secret was made for it


@pytest.mark.parametrize("given", ["ORDER_READ", "ORDER_RECORD_READ,CONFIG_EVERYTHING", " , "])
def test_token_refuses_unknown_permissions(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           given: str) -> None:
    monkeypatch.setenv("ORDER_RECORDS_JWT_SECRET", SECRET)
    assert cli.main(["token", "--permissions", given]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: --permissions") and err.count("\n") == 1
    assert all(p in err for p in PERMISSIONS)  # the list to choose from
    assert "ORDER_READ" in err or "CONFIG_EVERYTHING" in err or "no permission" in err


def test_token_permissions_come_from_the_auth_module(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A permission added to app.api.auth.PERMISSIONS is accepted without touching the command line code."""
    monkeypatch.setenv("ORDER_RECORDS_JWT_SECRET", SECRET)
    monkeypatch.setattr(cli.auth, "PERMISSIONS", (*PERMISSIONS, "CONFIG_READ"))
    assert cli.main(["token", "--permissions", "CONFIG_READ"]) == 0
    assert decode(capsys.readouterr().out.strip())["permissions"] == ["CONFIG_READ"]


# --- serving: refusals ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [[], ["serve"]])
def test_mongodb_without_a_key_refuses_to_serve(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                isolated: list[Settings], argv: list[str]) -> None:
    monkeypatch.setenv("ORDER_RECORDS_MONGODB_URI", "mongodb://127.0.0.1:1")
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert isolated == []
    assert "export TOKEN" not in out
    for name in KEY_ENV_NAMES:
        assert name in err


def test_serve_function_refuses_mongodb_without_a_key(isolated: list[Settings]) -> None:
    settings = make_settings({"mongodb.uri": "mongodb://127.0.0.1:1"})
    with pytest.raises(cli.SettingsError) as caught:
        cli.serve(settings)
    assert all(name in str(caught.value) for name in KEY_ENV_NAMES)
    assert isolated == []


@pytest.mark.parametrize(("env", "named"), [
    ({"ORDER_RECORDS_SERVER_PORT": "eighty"}, "server.port"),
    ({"ORDER_RECORDS_GDPR_DELETION_TIME_AFTER_RETENTION": "0"}, "gdpr.deletion_time_after_retention"),
    ({"ORDER_RECORDS_SERVER_LOG_LEVEL": "CHATTY"}, "server.log_level"),
    ({"ORDER_RECORDS_JWT_SECRET": "s" * 32, "ORDER_RECORDS_JWT_JWKS_URL": "https://idp.example/jwks.json"}, "jwt."),
])
@pytest.mark.parametrize("argv", [[], ["serve"], ["token"], ["gdpr-sweep"]])
def test_bad_env_setting_exits_2_naming_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           isolated: list[Settings], env: dict[str, str], named: str,
                                           argv: list[str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error:") and named in err
    assert "Traceback" not in err
    assert isolated == []


def test_unusable_public_key_exits_2_before_serving(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str],
                                                    isolated: list[Settings]) -> None:
    monkeypatch.setenv("ORDER_RECORDS_JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n")
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "jwt.public_key" in err and "Traceback" not in err
    assert isolated == []


def test_bad_port_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str], isolated: list[Settings]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--port", "http"])
    assert caught.value.code == 2
    assert "--port" in capsys.readouterr().err
    assert isolated == []


def test_out_of_range_port_flag_exits_2(capsys: pytest.CaptureFixture[str], isolated: list[Settings]) -> None:
    assert cli.main(["--port", "70000"]) == 2
    assert "server.port" in capsys.readouterr().err
    assert isolated == []


def test_unreachable_mongodb_sweep_exits_2(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ORDER_RECORDS_MONGODB_URI", "mongodb://127.0.0.1:1/?directConnection=true")
    monkeypatch.setenv("ORDER_RECORDS_MONGODB_SERVER_SELECTION_TIMEOUT_MS", "100")
    monkeypatch.setenv("ORDER_RECORDS_MONGODB_CONNECT_TIMEOUT_MS", "100")
    assert cli.main(["gdpr-sweep"]) == 2
    out, err = capsys.readouterr()
    assert "not reachable" in err
    assert "anonymized" not in out


# --- serving: the dev secret ---------------------------------------------------------------------------------

async def test_with_dev_secret_gives_embedded_store_a_secret_and_token() -> None:
    settings = make_settings({"sqlite.path": ":memory:"})
    assert not settings.jwt.configured
    dev, token = cli.with_dev_secret(settings)
    assert token is not None
    assert dev.jwt.secret and len(dev.jwt.secret) >= 32
    assert dev.jwt.configured
    assert dev.replace({"jwt.secret": ""}) == settings  # nothing else changed
    assert settings.jwt.secret == ""  # the input is untouched
    claims = decode(token, secret=dev.jwt.secret)
    assert sorted(claims["permissions"]) == sorted(PERMISSIONS)
    assert claims["exp"] > time.time() + 3600
    assert await granted(dev, token) == frozenset(PERMISSIONS)
    other, other_token = cli.with_dev_secret(settings)
    assert other.jwt.secret != dev.jwt.secret  # ephemeral: a new secret every run
    with pytest.raises(jwt.InvalidSignatureError):
        decode(token, secret=other.jwt.secret)
    assert other_token != token


async def test_the_dev_token_carries_the_configured_issuer_and_audience() -> None:
    settings = make_settings({"sqlite.path": ":memory:", "jwt.issuer": "https://issuer.example",
                              "jwt.audience": "order-records"})
    dev, token = cli.with_dev_secret(settings)
    assert token is not None
    assert await granted(dev, token) == frozenset(PERMISSIONS)


@pytest.mark.parametrize("overrides", [
    {"mongodb.uri": "mongodb://127.0.0.1:1"},
    {"mongodb.uri": "mongodb://127.0.0.1:1", "jwt.secret": SECRET},
    {"jwt.secret": SECRET},
    {"jwt.public_key": PEM},
    {"jwt.jwks_url": "https://idp.example/jwks.json"},
], ids=["mongodb", "mongodb+secret", "secret", "public-key", "jwks"])
def test_with_dev_secret_leaves_other_settings_alone(overrides: dict[str, str]) -> None:
    settings = make_settings(overrides)
    assert cli.with_dev_secret(settings) == (settings, None)


def test_serve_prints_the_dev_token_and_serves_with_its_secret(capsys: pytest.CaptureFixture[str],
                                                               isolated: list[Settings]) -> None:
    assert cli.serve(make_settings({"sqlite.path": ":memory:", "server.port": 0})) == 0
    out = capsys.readouterr().out
    assert len(isolated) == 1
    served = isolated[0]
    token = dev_token_from(out.splitlines())
    assert sorted(decode(token, secret=served.jwt.secret)["permissions"]) == sorted(PERMISSIONS)
    assert served.jwt.secret not in out
    assert "SQLite in memory" in out and "a secret for this run only" in out


def test_serve_with_a_configured_secret_prints_no_token(capsys: pytest.CaptureFixture[str],
                                                        isolated: list[Settings]) -> None:
    settings = make_settings({"sqlite.path": ":memory:", "jwt.secret": SECRET})
    assert cli.serve(settings) == 0
    out = capsys.readouterr().out
    assert "TOKEN" not in out and SECRET not in out
    assert isolated == [settings]


def test_flags_override_env(monkeypatch: pytest.MonkeyPatch, isolated: list[Settings]) -> None:
    monkeypatch.setenv("ORDER_RECORDS_SERVER_PORT", "9000")
    monkeypatch.setenv("ORDER_RECORDS_SERVER_HOST", "0.0.0.0")
    monkeypatch.setenv("ORDER_RECORDS_JWT_SECRET", SECRET)
    monkeypatch.setenv("ORDER_RECORDS_SQLITE_PATH", ":memory:")
    assert cli.main(["--port", "9100", "serve"]) == 0
    assert [(s.server.host, s.server.port) for s in isolated] == [("0.0.0.0", 9100)]


@pytest.mark.parametrize("argv", [["serve", "--port", "9100", "--host", "0.0.0.0", "--workers", "1"],
                                  ["--port", "9100", "--host", "0.0.0.0", "serve"],
                                  ["--port", "1", "--host", "0.0.0.0", "serve", "--port", "9100"]])
def test_listening_flags_before_or_after_serve(monkeypatch: pytest.MonkeyPatch, isolated: list[Settings],
                                               argv: list[str]) -> None:
    monkeypatch.setenv("ORDER_RECORDS_JWT_SECRET", SECRET)
    monkeypatch.setenv("ORDER_RECORDS_SQLITE_PATH", ":memory:")
    assert cli.main(argv) == 0
    assert [(s.server.host, s.server.port) for s in isolated] == [("0.0.0.0", 9100)]


def dev_token_from(lines: list[str]) -> str:
    for line in lines:
        if "export TOKEN=" in line:
            return line.split("export TOKEN=", 1)[1].strip()
    raise AssertionError(f"no dev token printed in {lines!r}")


# --- for real, in a subprocess -------------------------------------------------------------------------------

def test_python_m_app_serves_with_a_dev_token(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "data" / "records.sqlite3"
    env = clean_env() | {"ORDER_RECORDS_SQLITE_PATH": str(db), "ORDER_RECORDS_SERVER_PORT": str(port),
                         "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore
    try:
        deadline = time.monotonic() + 10
        token = None
        while token is None:
            assert time.monotonic() < deadline, f"no dev token within 10 s: {seen!r}"
            assert proc.poll() is None, f"the server exited with {proc.returncode}: {seen!r}"
            try:
                seen.append(lines.get(timeout=0.2))
            except queue.Empty:
                continue
            if "export TOKEN=" in seen[-1]:
                token = dev_token_from(seen[-1:])
        assert any(f"http://127.0.0.1:{port}" in line for line in seen)
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                status, _, body = http_get(base + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"the server did not answer within 10 s: {seen!r}"
                assert proc.poll() is None, f"the server exited with {proc.returncode}: {seen!r}"
                time.sleep(0.05)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, _, body = http_get(base + "/api/orderrecords", {"Authorization": f"Bearer {token}"})
        assert status == 200, body
        assert json.loads(body) == {"total": 0, "orderRecords": []}
        status, headers, body = http_get(base + "/api/orderrecords")
        assert status == 401
        assert headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert headers.get("Content-Type", "").startswith("application/json")
        assert db.exists()
        # a header aiohttp's parser refuses (a control character) carrying the token: the token is never logged
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(f"GET /api/orderrecords HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\x01\r\n"
                         "\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.0 400 ")
        status, _, _ = http_get(base + "/health")  # the server handled that request before this one
        assert status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        time.sleep(0.2)  # the reader thread drains what the server printed last
        while not lines.empty():
            seen.append(lines.get())
        if proc.stdout:
            proc.stdout.close()
    logged = "".join(seen).replace(f"export TOKEN={token}", "")  # printed once at startup, on purpose
    assert token.split(".")[2] not in logged, logged
    assert "ERROR" not in logged, logged


def test_python_m_app_gdpr_sweep(tmp_path: Path) -> None:
    env = clean_env() | {"ORDER_RECORDS_SQLITE_PATH": str(tmp_path / "sweep.sqlite3")}
    done = subprocess.run([sys.executable, "-m", "app", "gdpr-sweep"], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "anonymized 0, deleted 0"
    assert (tmp_path / "sweep.sqlite3").exists()
