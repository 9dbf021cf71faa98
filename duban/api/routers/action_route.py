"""The action route as a plain Starlette route: the endpoint departments' systems call most.

FastAPI's per-request work around a route (matching through the included router, solving the parameters,
two exit stacks) costs more than the action's own SQL. This route reads the path and the body as FastAPI
would, with FastAPI's own validators of `tasks.post_action`, so a bad id, body or JSON answers with the
same problem+json; `post_action` stays declared (never served) for the OpenAPI document.
"""

from __future__ import annotations

import email.message
import json
from typing import Any, Final

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from duban.api.routers import tasks


def _declared() -> APIRoute:
    """The route `post_action` declares (its parameters, body and OpenAPI entry)."""
    for route in tasks.router.routes:
        if isinstance(route, APIRoute) and route.endpoint is tasks.post_action:
            return route
    raise LookupError("tasks.router declares no post_action")


DECLARED: Final = _declared()
_PATH_FIELDS: Final = [(field, field.alias) for field in DECLARED.dependant.path_params]
# One optional body, not embedded: FastAPI validates the whole JSON value against it, None when absent.
(_BODY,) = DECLARED.dependant.body_params
_OTHERS: Final = (
    DECLARED.dependant.query_params,
    DECLARED.dependant.header_params,
    DECLARED.dependant.cookie_params,
    DECLARED.dependant.dependencies,
)
if _BODY.field_info.is_required() or _BODY.field_info.default is not None or any(_OTHERS):
    raise LookupError("post_action's parameters changed: action_route reads them as they were")


def _is_json(content_type: str) -> bool:
    """Whether FastAPI would parse a body of this media type as JSON."""
    if content_type == "application/json":  # what clients send: no need to parse the header
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


async def _read_body(request: Request) -> Any:
    """The body as FastAPI reads it for a JSON body parameter (strict about the media type)."""
    try:
        body = await request.body()
        if not body:
            return PydanticUndefined
        content_type = request.headers.get("content-type")
        if content_type and _is_json(content_type):
            return await request.json()
        return body
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ],
            body=error.doc,
        ) from error
    except HTTPException:
        raise
    except Exception as error:
        # An interrupted read (over the body limit): FastAPI's 400, which the request guard turns into 413.
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from error


async def serve_action(request: Request) -> Response:
    """`POST /api/v1/tasks/{task_id}/actions/{action}`, validated as `tasks.post_action` declares it."""
    body = await _read_body(request)
    # What FastAPI's parameter solving does for these fields, without its per-field bookkeeping: each
    # path parameter (always present: the path matched) through its validator, then the body through its.
    values: dict[str, Any] = {}
    errors: list[Any] = []
    for field, alias in _PATH_FIELDS:
        value, field_errors = field.validate(request.path_params[alias], values, loc=("path", alias))
        values[field.name] = value
        errors.extend(field_errors)
    if body is PydanticUndefined:
        action_body = None
    else:
        action_body, body_errors = _BODY.validate(body, values, loc=("body",))
        errors.extend(body_errors)
    if errors:
        raise RequestValidationError(errors, body=None if body is PydanticUndefined else body)
    return await tasks.answer_action(request, values["task_id"], values["action"], action_body)


class ActionRoute(Route):
    """A Starlette route that names itself in the scope as FastAPI's routes do (metrics, access log)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match as Starlette does, and record the route."""
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def action_route() -> ActionRoute:
    """The route to put first in the app's routes."""
    return ActionRoute(
        DECLARED.path,
        serve_action,
        methods=sorted(DECLARED.methods or ()),
        name=DECLARED.name,
        include_in_schema=False,
    )
