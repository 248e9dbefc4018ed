"""Typed application state keys shared by the factory, handlers and background tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from app.records import RecordBuilder
from app.settings import Settings
from app.store.base import Store

Clock = Callable[[], datetime]

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
BUILDER = web.AppKey("builder", RecordBuilder)
CLOCK = web.AppKey("clock", Clock)

