"""A bare aiohttp server answering GET /page with one fixed body: the transfer floor scripts/bench.py compares with."""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web

from app.__main__ import tune_server_process


def make_app(body: bytes) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def health(request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    app = web.Application()
    app.router.add_get("/page", page)
    app.router.add_get("/health", health)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_echo", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="file holding the body to answer with")
    args = parser.parse_args(argv)
    app = make_app(args.body.read_bytes())
    tune_server_process()  # the same process settings as the real server, so only the app's own work differs
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
