"""The Docker build context holds what the Dockerfile copies and nothing else; local state stays out of git."""

from __future__ import annotations

import fnmatch
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def sent_to_builder(name: str) -> bool:
    """Docker's rule for a top-level entry: the last pattern that matches it decides; `!` re-includes."""
    included = True
    for pattern in dockerignore_patterns():
        negated = pattern.startswith("!")
        if fnmatch.fnmatchcase(name, pattern.lstrip("!").rstrip("/")):
            included = negated
    return included


def copied_by_dockerfile() -> set[str]:
    sources: set[str] = set()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources.update(line.split()[1:-1])
    return sources


def test_the_build_context_is_what_the_dockerfile_copies() -> None:
    copied = copied_by_dockerfile()
    assert copied == {"pyproject.toml", "README.md", "app", "scripts", "config"}
    for name in copied:
        assert sent_to_builder(name), name
    for name in ("data", ".venv", "venv", ".git", "tests", "docs", "sample.jsonl.gz", "rejects.jsonl",
                 "orderrecords.sqlite3", ".pytest_cache", "client"):
        assert not sent_to_builder(name), name
    assert "**/__pycache__" in dockerignore_patterns()


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_local_state_is_ignored_by_git() -> None:
    for path in ("data/orderrecords.sqlite3", "data/orderrecords.sqlite3.dev-secret", "db.sqlite3.dev-secret",
                 "sample.jsonl.gz", "client/README.md", "rejects.jsonl", "sample.jsonl.gz.checkpoint.json"):
        done = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT, check=False)
        assert done.returncode == 0, f"{path} is not ignored"
