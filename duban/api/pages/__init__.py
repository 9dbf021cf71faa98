"""Pages for people (server-rendered Jinja2, session sign-in, CSRF-checked forms): the office's 逾期督办
board, a department's 我的任务, task pages, plan review, scorecards and the administrator's 用户管理.
`install(app)` adds them."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from duban.api.pages import auth, board, plans, scorecards, task_page, tasks, users
from duban.api.pages.web import STATIC, session_options

router = APIRouter()
for module in (auth, board, tasks, task_page, plans, scorecards, users):
    router.include_router(module.router)


class PageSession(SessionMiddleware):
    """The signed session cookie, for the pages only: the API authenticates every request by its token."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass API requests straight through."""
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def install(app: FastAPI) -> None:
    """Add the pages, their static files and the signed session cookie to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(PageSession, **session_options())


__all__ = ["install", "router"]
