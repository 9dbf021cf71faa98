"""The FastAPI application factory."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from duban import __doc__ as package_doc
from duban.api import pages
from duban.api.database_errors import install_database_error_handlers
from duban.api.middleware import RequestGuard
from duban.api.problems import PROBLEM_MEDIA_TYPE, Problem, install_problem_handlers
from duban.api.routers import (
    departments,
    exports,
    ladder,
    paperwork,
    plans,
    records,
    review,
    system,
    task_batch,
    tasks,
)
from duban.api.routers.action_route import action_route
from duban.core.config import get_settings
from duban.notifications import celery_app as _celery  # noqa: F401  (installs the job sender)

DESCRIPTION = """督办（duban）：把规划文件变成可追责的任务——牵头单位、配合单位、完成时限、
签收、进展、办结审核与督办升级。

duban turns policy documents into accountable tasks. Every error is RFC 9457
`application/problem+json` with a Chinese and an English message and a stable `code`."""


_frozen_pid: int | None = None
FULL_COLLECTION_EVERY = 100  # middle-generation collections per full one (CPython's default: 10)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Move what start-up built out of the collector's reach, once per serving process."""
    global _frozen_pid
    if _frozen_pid != os.getpid():
        _frozen_pid = os.getpid()
        # A full collection walks every tracked object: with duban's ~200,000 objects after import that is
        # 90-140 ms of CPU with the GIL held, six times in 15 s under load, every request of the process
        # waiting behind it (issue 17: the p99 block). Frozen, the start-up objects are never walked again;
        # and with the collector's usual full-collection trigger (every 10th middle one) ten times rarer,
        # the requests' own surviving cycles are still collected, in fewer, short pauses.
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
    yield


def create_app() -> FastAPI:
    """Build the API and pages app."""
    settings = get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="督办 duban",
        version="1.0.0",
        description=DESCRIPTION,
        summary=package_doc,
        openapi_tags=[
            {"name": "system", "description": "健康检查与指标 / health and metrics"},
            {"name": "auth", "description": "登录与身份 / sign-in and identity"},
            {"name": "departments", "description": "部门名录 / the department registry"},
            {"name": "plans", "description": "规划导入与查阅 / plans: import and read"},
            {"name": "tasks", "description": "任务、办理动作与审计记录 / tasks, actions and their audit log"},
            {"name": "records", "description": "进展、配合报送与延期 / progress, contributions, extensions"},
            {"name": "stats", "description": "部门评分数据 / scoring inputs per department"},
            {"name": "review", "description": "交办前审核与分工方案 / review before issuing, 分工方案"},
            {"name": "rules", "description": "责任规则 / responsibility rules"},
        ],
    )
    install_problem_handlers(app)
    install_database_error_handlers(app)
    # Routes are matched in order: the tasks router, which departments' systems call most, goes first.
    app.include_router(tasks.router)
    app.include_router(task_batch.router)
    app.include_router(system.router)
    app.include_router(departments.router)
    app.include_router(plans.router)
    app.include_router(records.router)
    app.include_router(review.router)
    app.include_router(ladder.router)
    app.include_router(exports.router)
    app.include_router(paperwork.router)
    pages.install(app)  # "/" and the pages for people; "/docs" keeps the OpenAPI

    # The action route serves before everything, FastAPI's own routes included; post_action (in the tasks
    # router) declares it for the OpenAPI document.
    app.router.routes.insert(0, action_route())
    app.add_middleware(RequestGuard, max_body=settings.max_request_bytes)
    app.openapi = lambda: problem_openapi(app)  # type: ignore[method-assign]
    return app


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error response described as problem+json (FastAPI's default
    422 body is replaced, since our handlers never send it)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema
