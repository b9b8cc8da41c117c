"""MongoDB adapters of the persistence ports (beanie on pymongo's async driver), and the embedded server."""

from __future__ import annotations

from adapters.mongo.embedded import EmbeddedMongoServer, EmbeddedServerError
from adapters.mongo.lifecycle import MongoStore, MongoTimeouts, open_mongo_store

__all__ = ["EmbeddedMongoServer", "EmbeddedServerError", "MongoStore", "MongoTimeouts", "open_mongo_store"]
