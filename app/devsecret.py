"""The development token secret: kept beside the embedded database, so dev tokens outlive a restart."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from app.settings import MIN_SECRET_BYTES, Settings, SettingsError, env_name

SUFFIX = ".dev-secret"


def dev_secret_path(settings: Settings) -> Path | None:
    """Where the development secret lives; None when there is none to keep (a key is configured, MongoDB, or an
    in-memory database, which keeps nothing between runs either)."""
    if settings.jwt.configured or settings.uses_mongodb or settings.sqlite.path == ":memory:":
        return None
    return Path(settings.sqlite.path + SUFFIX)


def load_or_create(path: Path) -> str:
    """The secret stored at `path`, created (owner-only, 0600) when missing; SettingsError when unusable."""
    try:
        try:
            return _read(path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create(path, secrets.token_urlsafe(32))
            return _read(path)  # whoever won a race to create it, every process reads the same secret
    except OSError as exc:
        raise _unusable(path, exc.strerror or str(exc)) from None


def _create(path: Path, secret: str) -> None:
    # Written whole to a temporary file (mkstemp: mode 0600), then linked into place: the link fails if another
    # process created the file meanwhile, so no process ever reads a half-written secret or replaces another's.
    fd, tmp = tempfile.mkstemp(prefix=".dev-secret-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def _read(path: Path) -> str:
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _unusable(path, "not a regular file")
        if info.st_mode & 0o077:
            raise _unusable(path, f"open to other users (mode {stat.S_IMODE(info.st_mode):o}); "
                                  f"run `chmod 600 {path}` or delete it to have a new one made")
        try:
            secret = handle.read(4096).decode().strip()
        except UnicodeDecodeError:
            raise _unusable(path, "not UTF-8 text; delete it to have a new one made") from None
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise _unusable(path, f"shorter than {MIN_SECRET_BYTES} bytes; delete it to have a new one made")
    return secret


def _unusable(path: Path, why: str) -> SettingsError:
    return SettingsError(f"setting sqlite.path ({env_name('sqlite.path')}): the development token secret "
                         f"{path} beside the database cannot be used: {why}")
