"""Start-up: failures are one line naming the setting (exit 2, nothing printed before), one instance per port."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import serving
from app.api.auth import PERMISSIONS, issue_token
from app.factory import create_app
from app.settings import ServerSettings, SettingsError, make_settings
from tests.processes import Server, free_port, http_get, run_app

SECRET_A = "first-instance-secret-that-is-long-enough"
SECRET_B = "second-instance-secret-that-is-long-enough"


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


def assert_one_line_failure(done: object, setting: str) -> str:
    rc, out, err = done.returncode, done.stdout, done.stderr  # type: ignore[attr-defined]
    assert rc == 2, (out, err)
    assert out == ""  # no banner, no token: the service never served
    assert err.startswith(f"error: setting {setting}") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return str(err)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_fails_in_one_line(tmp_path: Path, held_port: int, workers: str) -> None:
    db = tmp_path / "records.sqlite3"
    done = run_app(tmp_path, "--port", str(held_port), "--workers", workers, ORDER_RECORDS_SQLITE_PATH=str(db))
    assert "already in use" in assert_one_line_failure(done, "server.port")
    assert not db.exists() and not (tmp_path / "records.sqlite3.dev-secret").exists()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_database_path_under_a_file_fails_in_one_line(tmp_path: Path, workers: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    done = run_app(tmp_path, "--port", "0", "--workers", workers,
                   ORDER_RECORDS_SQLITE_PATH=str(tmp_path / "a-file" / "records.sqlite3"))
    assert "a-file" in assert_one_line_failure(done, "sqlite.path")


def test_an_address_of_another_machine_fails_in_one_line(tmp_path: Path) -> None:
    done = run_app(tmp_path, "--host", "192.0.2.1", "--port", "0", ORDER_RECORDS_SQLITE_PATH=":memory:")
    assert "192.0.2.1" in assert_one_line_failure(done, "server.host")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_takes_the_listening_flags_and_prints_its_banner_once_it_serves(tmp_path: Path, workers: str) -> None:
    port = free_port()
    server = Server(tmp_path, "serve", "--port", str(port), "--workers", workers,
                    ORDER_RECORDS_SQLITE_PATH=str(tmp_path / "db.sqlite3"), ORDER_RECORDS_JWT_SECRET=SECRET_A)
    try:
        base = server.wait_ready()
        assert base == f"http://127.0.0.1:{port}"
        status, headers, _ = http_get(base + "/health")  # at once: no retry, the banner means it serves
        assert status == 200
        assert "Server" not in headers
    finally:
        server.stop()


@pytest.mark.parametrize(("first", "second"), [("1", "1"), ("1", "2"), ("2", "1"), ("2", "2")])
def test_a_second_instance_on_the_same_port_is_refused(tmp_path: Path, first: str, second: str) -> None:
    port = str(free_port())
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    server = Server(tmp_path / "a", "--port", port, "--workers", first, ORDER_RECORDS_JWT_SECRET=SECRET_A)
    try:
        base = server.wait_ready()
        done = run_app(tmp_path / "b", "--port", port, "--workers", second, ORDER_RECORDS_JWT_SECRET=SECRET_B)
        assert "already in use" in assert_one_line_failure(done, "server.port")
        # every connection still reaches the first instance: a second one sharing the port would refuse its token
        auth = {"Authorization": f"Bearer {issue_token(SECRET_A, PERMISSIONS)}"}
        assert [http_get(base + "/api/orderrecords?size=1", auth)[0] for _ in range(12)] == [200] * 12
    finally:
        server.stop()


def test_parser_refusals_do_not_name_the_software(tmp_path: Path) -> None:
    server = Server(tmp_path, "--port", "0", ORDER_RECORDS_SQLITE_PATH=":memory:", ORDER_RECORDS_JWT_SECRET=SECRET_A)
    try:
        host, port = server.wait_ready().removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nBad: a\x01b\r\n\r\n")
            head = sock.recv(4096).split(b"\r\n\r\n")[0]
        assert head.startswith(b"HTTP/1.0 400")
        assert b"aiohttp" not in head and b"Python" not in head
    finally:
        server.stop()


async def test_no_answer_names_the_software(aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(make_settings({"sqlite.path": ":memory:", "jwt.secret": SECRET_A})))
    for path in ("/health", "/api/orderrecords", "/nowhere", "/api/docs"):
        response = await client.get(path)
        assert "Server" not in response.headers, (path, response.status)


# --- listening, in this process ------------------------------------------------------------------------------

def server_settings(port: int, workers: int) -> ServerSettings:
    return make_settings({"server.port": port, "server.workers": workers}).server


def reuses_port(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))


def test_workers_share_one_port_that_nothing_else_can_take() -> None:
    listeners = serving.listen(server_settings(0, 3))
    try:
        socks = [group[0] for group in listeners.sockets]
        assert len(socks) == 3 and all(reuses_port(s) for s in socks)
        assert {s.getsockname()[1] for s in socks} == {listeners.port}
        with socket.socket() as other, pytest.raises(OSError) as caught:
            other.bind(("127.0.0.1", listeners.port))
        assert caught.value.errno == errno.EADDRINUSE
        with pytest.raises(SettingsError, match=r"server\.port"):
            serving.listen(server_settings(listeners.port, 2)).close()
    finally:
        listeners.close()


def test_one_worker_does_not_share_its_port() -> None:
    listeners = serving.listen(server_settings(0, 1))
    try:
        assert not reuses_port(listeners.sockets[0][0])
    finally:
        listeners.close()


def test_a_port_shared_by_another_program_is_not_joined() -> None:
    """SO_REUSEPORT would let the workers join any group of the same user: a plain bind is tried first."""
    with socket.socket() as foreign:
        foreign.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        with pytest.raises(SettingsError, match="already in use"):
            serving.listen(server_settings(foreign.getsockname()[1], 2)).close()


@pytest.mark.skipif(not serving.sys.platform.startswith("linux"), reason="the instance lock is Linux only")
def test_an_instance_starting_on_the_port_holds_it_from_the_first_check() -> None:
    """Two instances starting at once could both find the port free before either binds: the lock decides."""
    settings = server_settings(free_port(), 2)
    lock = serving._instance_lock(serving._resolve("127.0.0.1", settings.port), settings)
    assert lock is not None
    try:
        with pytest.raises(SettingsError, match="already in use"):
            serving.listen(settings).close()
    finally:
        lock.close()
    serving.listen(settings).close()
