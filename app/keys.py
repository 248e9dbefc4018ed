"""Typed application state keys shared by the factory, handlers and background tasks."""

from __future__ import annotations

from aiohttp import web

from app.records import RecordBuilder
from app.settings import Settings
from app.store.base import Clock, Store

__all__ = ["BUILDER", "CLOCK", "SETTINGS", "STORE", "Clock"]

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
BUILDER = web.AppKey("builder", RecordBuilder)
CLOCK = web.AppKey("clock", Clock)

