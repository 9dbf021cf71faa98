"""The records API (progress, contributions, extensions, statistics); include `records.router` in the app."""

from __future__ import annotations

from duban.api.routers.records.endpoints import router

__all__ = ["router"]
