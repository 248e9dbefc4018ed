"""docs/ stands alone (no links out of the repository), and the client snippet of docs/openapi.md works as written."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from app.api.auth import PERMISSIONS, issue_token
from app.factory import create_app
from app.settings import make_settings
from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_docs_link_only_to_what_the_repository_holds() -> None:
    assert DOCS
    for doc in DOCS:
        text = doc.read_text()
        assert "../shared" not in text and "/work/" not in text, doc.name
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            assert (doc.parent / target.split("#")[0]).exists(), f"{doc.name} links to missing {target}"


def client_snippet() -> str:
    text = (ROOT / "docs" / "openapi.md").read_text()
    section = text[text.index("### Generating a client"):]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def generated_package_name(title: str) -> str:
    """openapi-python-client's default: the title's words, lower case, joined by `_`, then `_client`."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", title)
    return "_".join(word.lower() for word in words) + "_client"


async def served_document(aiohttp_client: Any) -> tuple[Any, dict[str, Any]]:
    client = await aiohttp_client(create_app(make_settings({"sqlite.path": ":memory:", "jwt.secret": SECRET})))
    response = await client.get("/api/docs/openapi.json")
    assert response.status == 200
    return client, await response.json()


async def test_the_snippet_imports_the_package_the_generator_makes(aiohttp_client: Any) -> None:
    _, document = await served_document(aiohttp_client)
    imported = re.search(r"^from (\w+) import AuthenticatedClient$", client_snippet(), re.M)
    assert imported is not None
    assert imported.group(1) == generated_package_name(document["info"]["title"])
    assert generated_package_name("Order Records API") == "order_records_api_client"  # what 0.29 made of it


def generator_python() -> str | None:
    """The interpreter openapi-python-client runs with: it has the generated client's dependencies (httpx, attrs)."""
    tool = shutil.which("openapi-python-client")
    if tool is None:
        return None
    first = Path(tool).read_text(errors="replace").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else sys.executable


@pytest.mark.skipif(generator_python() is None, reason="openapi-python-client is not installed")
async def test_the_snippet_runs_against_a_client_generated_from_the_document(aiohttp_client: Any,
                                                                            tmp_path: Path) -> None:
    client, document = await served_document(aiohttp_client)
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    generate = await asyncio.create_subprocess_exec(
        "openapi-python-client", "generate", "--path", str(tmp_path / "openapi.json"), "--output-path",
        str(tmp_path / "client"), cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(generate.communicate(), 120)
    assert generate.returncode == 0, output.decode()
    snippet = client_snippet().replace("http://127.0.0.1:8080", str(client.make_url("")).rstrip("/"))
    run = await asyncio.create_subprocess_exec(
        str(generator_python()), "-c", snippet, cwd=tmp_path / "client",
        env={"TOKEN": issue_token(SECRET, PERMISSIONS), "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(run.communicate(), 60)
    assert run.returncode == 0, err.decode()
    assert out.decode().startswith("200 "), out.decode()[:500]
