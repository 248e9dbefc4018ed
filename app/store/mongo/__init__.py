"""The MongoDB store: records, the search compiler, the configurations collection and the driver's errors."""

from app.store.mongo.records import MongoStore

__all__ = ["MongoStore"]
