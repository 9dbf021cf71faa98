"""The records API (progress, contributions, extensions, statistics, evidence files); include
`records.router` in the app."""

from __future__ import annotations

from fastapi import APIRouter

from duban.api.routers.records import endpoints, files

router = APIRouter()
router.include_router(endpoints.router)
router.include_router(files.router)
router.include_router(files.page_router)

__all__ = ["router"]
