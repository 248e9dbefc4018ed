"""The development secret: beside the embedded database, owner-only, kept across restarts, never over a key."""

from __future__ import annotations

import os
import signal
import stat
import threading
from pathlib import Path

import jwt
import pytest

import app.__main__ as cli
from app.api.auth import PERMISSIONS
from app.devsecret import dev_secret_path, load_or_create
from app.settings import SettingsError, make_settings
from tests.conftest import SECRET
from tests.processes import Server, http_get, run_app


def decode(token: str, secret: str) -> dict[str, object]:
    return jwt.decode(token, secret, algorithms=["HS256"])


def test_the_secret_is_made_once_owner_only_and_then_kept(tmp_path: Path) -> None:
    settings = make_settings({"sqlite.path": str(tmp_path / "data" / "records.sqlite3")})
    path = dev_secret_path(settings)
    assert path == tmp_path / "data" / "records.sqlite3.dev-secret"
    first, token = cli.with_dev_secret(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first.jwt.secret and len(first.jwt.secret) >= 32
    again, _ = cli.with_dev_secret(settings)  # a restart
    assert again.jwt.secret == first.jwt.secret
    assert token is not None and sorted(decode(token, again.jwt.secret)["permissions"]) == sorted(PERMISSIONS)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_processes_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3.dev-secret"
    found: list[str] = []
    threads = [threading.Thread(target=lambda: found.append(load_or_create(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1


@pytest.mark.parametrize("overrides", [{"jwt.secret": SECRET}, {"jwt.jwks_url": "https://idp.example/jwks.json"},
                                       {"mongodb.uri": "mongodb://127.0.0.1:1"}, {"sqlite.path": ":memory:"}])
def test_there_is_none_with_a_key_mongodb_or_a_memory_database(tmp_path: Path, overrides: dict[str, str]) -> None:
    settings = make_settings({"sqlite.path": str(tmp_path / "records.sqlite3"), **overrides})
    (tmp_path / "records.sqlite3.dev-secret").write_text("x" * 40)
    os.chmod(tmp_path / "records.sqlite3.dev-secret", 0o600)
    assert dev_secret_path(settings) is None
    dev, _ = cli.with_dev_secret(settings)
    assert dev.jwt.secret != "x" * 40


@pytest.mark.parametrize(("content", "mode", "why"), [
    ("s" * 43, 0o644, "open to other users"), ("tiny-secret", 0o600, "shorter than 32 bytes"),
    (b"\xff" * 40, 0o600, "not UTF-8")])
def test_an_unusable_secret_file_stops_in_one_line(tmp_path: Path, content: str | bytes, mode: int, why: str) -> None:
    path = tmp_path / "records.sqlite3.dev-secret"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    os.chmod(path, mode)
    with pytest.raises(SettingsError, match=why) as caught:
        cli.with_dev_secret(make_settings({"sqlite.path": str(tmp_path / "records.sqlite3")}))
    assert "sqlite.path" in str(caught.value) and str(path) in str(caught.value)
    done = run_app(tmp_path, "token", ORDER_RECORDS_SQLITE_PATH=str(tmp_path / "records.sqlite3"))
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    if isinstance(content, str):
        assert content not in done.stderr  # the secret is never shown


def test_the_dev_token_survives_a_restart_and_the_token_command_signs_alike(tmp_path: Path) -> None:
    db = tmp_path / "data" / "orderrecords.sqlite3"
    before_start = run_app(tmp_path, "token", "--permissions", "ORDER_RECORD_READ")  # the default set-up
    assert before_start.returncode == 0, before_start.stderr
    cli_token = before_start.stdout.strip()
    server = Server(tmp_path, "--port", "0")
    try:
        base = server.wait_ready()
        first_token = server.dev_token()
        banner = server.output()
        assert f"SQLite at {db}, new and empty" in banner  # in full: relative paths are to the working directory
        assert f"{db}.dev-secret, kept across restarts" in banner  # the banner says where the secret is
        server.signal(signal.SIGTERM)
        assert server.wait() == 0
    finally:
        server.stop()
    assert db.exists() and stat.S_IMODE(Path(f"{db}.dev-secret").stat().st_mode) == 0o600
    server = Server(tmp_path, "--port", "0")
    try:
        base = server.wait_ready()
        assert f"SQLite at {db}, 1 worker(s)" in server.output()  # the same database, no longer new
        for token in (first_token, cli_token):
            status, _, body = http_get(base + "/api/orderrecords?size=1", {"Authorization": f"Bearer {token}"})
            assert status == 200, body
    finally:
        server.stop()
