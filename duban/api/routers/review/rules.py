"""The responsibility rules: read the rules in force; the office saves its own layer as a new version."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlmodel import Session

from duban.api.auth import CurrentUser
from duban.api.deps import SessionDep
from duban.api.routers.review.edits import require_office, responses
from duban.api.routers.review.schemas import RulesIn, RulesView, RuleView
from duban.api.routers.tasks import parse_if_match
from duban.tasks.rules.store import latest_version, rules_in_force, save_rules

router = APIRouter(prefix="/api/v1", tags=["rules"])


def rules_etag(version: int) -> str:
    """The ETag of a rules version."""
    return f'"r{version}"'


def _view(session: Session) -> RulesView:
    row = latest_version(session)
    rules = rules_in_force(session)
    return RulesView(
        version=rules.version,
        note=row.note if row else "",
        updated_at=row.created_at if row else None,
        fallback=RuleView(**rules.fallback.to_dict()),
        rules=[RuleView(**rule.to_dict()) for rule in rules.rules],
        office_layer=list(row.rules) if row else [],
    )


def _respond(view: RulesView, status: int = 200) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(view), status_code=status, headers={"ETag": rules_etag(view.version)}
    )


@router.get("/responsibility-rules", response_model=RulesView, responses=responses(401))
def get_rules(session: SessionDep, user: CurrentUser) -> Any:
    """The responsibility rules in force (bundled YAML + the office's newest layer), with their version."""
    return _respond(_view(session))


@router.put("/responsibility-rules", response_model=RulesView, responses=responses(401, 403, 412, 422))
def put_rules(
    session: SessionDep,
    user: CurrentUser,
    body: RulesIn,
    if_match: Annotated[
        str | None, Header(description='规则版本的 ETag，例如 "r2" / the version\'s ETag')
    ] = None,
) -> Any:
    """Save the office's layer of rules as a new version (checked against the registry; If-Match guards
    against overwriting a newer version). New imports use it; existing tasks keep their assignments."""
    require_office(user)
    save_rules(
        session,
        [rule.to_stored() for rule in body.rules],
        expected_version=parse_if_match(if_match),
        user_id=user.id,
        note=body.note,
    )
    return _respond(_view(session))
