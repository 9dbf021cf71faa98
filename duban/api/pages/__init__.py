"""Pages for people (server-rendered Jinja2, session sign-in, CSRF-checked forms): the office's 逾期督办
board, a department's 我的任务, task pages, plan review and scorecards. `install(app)` adds them."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from duban.api.pages import auth, board, plans, scorecards, task_page, tasks
from duban.api.pages.web import STATIC, session_options

router = APIRouter()
for module in (auth, board, tasks, task_page, plans, scorecards):
    router.include_router(module.router)


def install(app: FastAPI) -> None:
    """Add the pages, their static files and the signed session cookie to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(SessionMiddleware, **session_options())


__all__ = ["install", "router"]
