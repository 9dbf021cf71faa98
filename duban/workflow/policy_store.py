"""Where the escalation policy a task is frozen with is kept: once per version, named by each task.

A task names its version (`task.policy_version`, NULL until issued); the rules themselves are one row of
`escalation_policy_version`. Every write of a version onto a task goes through `register_policy` (or, in
the one-statement action, through the same INSERT inside the statement) before it, so the version a
task names always has its rules (the foreign key refuses any other).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from duban.core import clock
from duban.core.db import Unit
from duban.workflow.models import EscalationPolicyVersion
from duban.workflow.policy import ISSUED_STATES, EscalationPolicy, PolicyError, bundled_policy, task_t

policy_t: Final = EscalationPolicyVersion.__table__  # type: ignore[attr-defined]


def register_policy(conn: sa.Connection, policy: EscalationPolicy) -> None:
    """Keep a policy version the first time it is used; one version number never means two rule sets."""
    stored = conn.execute(sa.select(policy_t.c.sha256).where(policy_t.c.version == policy.version)).first()
    if stored is None:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(
            insert(policy_t)
            .values(
                version=policy.version,
                name=policy.name,
                sha256=policy.sha256,
                body=policy.snapshot(),
                registered_at=clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["version"])
        )
    elif stored.sha256 != policy.sha256:
        raise PolicyError(
            f"督办升级规则第 {policy.version} 版的内容已改变，修改规则须提高版本号",
            f"escalation policy version {policy.version} changed content; raise the version number",
            version=policy.version,
        )


def frozen_rules() -> sa.ScalarSelect[Any]:
    """SQL for the rules (the snapshot) of the version frozen onto the task row in scope (NULL if none)."""
    return (
        sa.select(policy_t.c.body)
        .where(policy_t.c.version == task_t.c.policy_version)
        .correlate_except(policy_t)
        .scalar_subquery()
    )


def snapshot_of(conn: sa.Connection, version: int) -> Mapping[str, Any] | None:
    """The rules kept for `version` (None when no such version is kept)."""
    body = conn.execute(sa.select(policy_t.c.body).where(policy_t.c.version == version)).scalar()
    return body if isinstance(body, Mapping) else None


def names_of(conn: sa.Connection, versions: Iterable[int | None]) -> dict[int, str]:
    """The name of each kept version among `versions`."""
    wanted = sorted({v for v in versions if v is not None})
    if not wanted:
        return {}
    rows = conn.execute(sa.select(policy_t.c.version, policy_t.c.name).where(policy_t.c.version.in_(wanted)))
    return {int(row.version): str(row.name) for row in rows}


def freeze_policy(
    unit: Unit, task_ids: Iterable[int] | None = None, policy: EscalationPolicy | None = None
) -> int:
    """Freeze the policy in force onto issued tasks that have none yet (these ids, or all); how many."""
    current = policy or bundled_policy()
    conn = unit.connection()
    register_policy(conn, current)
    statement = (
        task_t.update()
        .where(task_t.c.state.in_(ISSUED_STATES), task_t.c.policy_version.is_(None))
        .values(policy_version=current.version)
    )
    if task_ids is None:
        return int(conn.execute(statement).rowcount or 0)
    ids = sorted(set(task_ids))
    frozen = 0
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        frozen += int(conn.execute(statement.where(task_t.c.id.in_(chunk))).rowcount or 0)
    return frozen
