"""The caller a request builds from its row (`user_from_row`, on every action) and the request metrics'
series: the same objects as before issue 17's session 8, for less work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from pydantic._internal import _typing_extra
from starlette.types import Scope

from duban.api.metrics import ACTIONS, LATENCY, REQUESTS, observe_request
from duban.core import clock
from duban.tasks.enums import Role
from duban.tasks.models import REQUEST_USER_COLUMNS, User, user_from_row

ROW = (7, "lead", "生态环境厅", "department", 2, 1, 0)


def test_the_caller_is_the_user_model_construct_gave_for_the_columns_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moment = dt.datetime(2026, 12, 8, 9, 0, tzinfo=clock.TZ)
    clock.set_now(moment)
    try:
        read: dict[str, Any] = dict(zip(REQUEST_USER_COLUMNS, ROW, strict=True))
        read.update(role=Role.department, active=True, must_change_password=False)
        expected = User.model_construct(**read)  # what user_from_row built before
        inspected: list[object] = []
        original = _typing_extra.signature_no_eval

        def watched(factory: Callable[..., Any]) -> Any:
            inspected.append(factory)
            return original(factory)

        monkeypatch.setattr(_typing_extra, "signature_no_eval", watched)
        caller = user_from_row(ROW)
    finally:
        clock.set_now(None)
    assert inspected == []  # no default factory inspected on the request path
    assert caller.__dict__ == expected.__dict__
    assert caller.model_fields_set == expected.model_fields_set == set(REQUEST_USER_COLUMNS)
    assert caller.created_at == moment and caller.password_hash is None
    assert caller.role is Role.department and caller.active is True and caller.must_change_password is False
    assert caller.label == "生态环境厅"


class _Route:
    path = "/api/v1/tasks/{task_id}/actions/{action}"


def test_request_metrics_count_in_the_series_labels_names() -> None:
    scope: Scope = {"method": "POST", "route": _Route(), "path_params": {"task_id": "1", "action": "fly"}}
    route = _Route.path

    def counts() -> tuple[float, float, float]:
        return (
            REQUESTS.labels("POST", route, "404")._value.get(),
            LATENCY.labels("POST", route)._sum.get(),
            ACTIONS.labels("unknown", "refused")._value.get(),
        )

    before = counts()
    for _ in range(3):
        observe_request(scope, 404, 0.5)
    after = counts()
    assert after[0] - before[0] == 3 and after[1] - before[1] == pytest.approx(1.5)
    assert after[2] - before[2] == 3
