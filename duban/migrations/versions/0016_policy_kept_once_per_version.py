"""policy kept once per version

Each issued task carried its own copy of the escalation policy it was frozen with (`task.policy`, a JSON
snapshot of about 1.5 KB as PostgreSQL stores it: most of a task row). The rules are now kept once per
version in `escalation_policy_version`, and a task names its version (`task.policy_version`, a foreign
key; NULL until issued).

Upgrade: every version found on the tasks is kept (its snapshot as the rules, unless that version is kept
already with the same fingerprint; a different fingerprint for one version stops the migration, as the
sweep refuses it); each task names its version; the snapshot column and its expression index (0015) go,
an index on (policy_version, state) comes, on both databases.
Downgrade: the snapshot column again, each task's filled from its version's rules.

The foreign key is PostgreSQL's only: SQLite adds and drops columns in place only when no constraint
names them, and copying the task table instead is refused by its foreign-key checks while other tables
point at tasks. On SQLite the code's own rule holds the reference (every write of a version onto a task
keeps its rules first, `duban.workflow.policy_store`).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_task_policy_version_state"
FOREIGN_KEY = "fk_task_policy_version_escalation_policy_version"
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

task = sa.table("task", sa.column("id", sa.Integer), sa.column("policy", _JSON), sa.column("policy_version"))
kept = sa.table(
    "escalation_policy_version",
    sa.column("version", sa.Integer),
    sa.column("name", sa.String),
    sa.column("sha256", sa.String),
    sa.column("body", _JSON),
    sa.column("registered_at", sa.DateTime(timezone=True)),
)


def _fingerprint(snapshot: dict[str, Any]) -> str:
    """As `EscalationPolicy.sha256`: the rules without their fingerprint, keys sorted."""
    if isinstance(snapshot.get("sha256"), str):
        return str(snapshot["sha256"])
    rules = {key: value for key, value in snapshot.items() if key != "sha256"}
    return hashlib.sha256(json.dumps(rules, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _keep_versions_found(conn: sa.Connection) -> None:
    """Keep each version the tasks carry, once; refuse one version number carrying two rule sets."""
    version = task.c.policy["version"].as_integer()
    found: dict[int, tuple[str, dict[str, Any]]] = {}
    for number in conn.execute(sa.select(version).where(version.is_not(None)).distinct()).scalars():
        for (snapshot,) in conn.execute(sa.select(task.c.policy).where(version == number)).yield_per(1000):
            sha = _fingerprint(snapshot)
            seen = found.setdefault(int(number), (sha, snapshot))
            if seen[0] != sha:
                raise RuntimeError(
                    f"任务冻结的督办升级规则第 {number} 版有两种内容，无法迁移 / "
                    f"tasks carry two different rule sets as escalation policy version {number}"
                )
    stored = {
        int(row.version): str(row.sha256) for row in conn.execute(sa.select(kept.c.version, kept.c.sha256))
    }
    for number, (sha, snapshot) in sorted(found.items()):
        if number in stored and stored[number] != sha:
            raise RuntimeError(
                f"督办升级规则第 {number} 版的记录与任务冻结的内容不同，无法迁移 / "
                f"escalation policy version {number} is recorded with other rules than its tasks carry"
            )
        if number not in stored:
            conn.execute(
                kept.insert().values(
                    version=number,
                    name=str(snapshot.get("name") or f"督办升级规则（第 {number} 版）")[:256],
                    sha256=sha,
                    body=snapshot,
                    registered_at=dt.datetime.now(dt.UTC),
                )
            )


def upgrade() -> None:
    """Tasks name their policy version; the rules are kept once."""
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    _keep_versions_found(conn)
    op.add_column("task", sa.Column("policy_version", sa.Integer(), nullable=True))
    op.execute(task.update().values(policy_version=task.c.policy["version"].as_integer()))
    if postgres:
        op.create_foreign_key(
            FOREIGN_KEY, "task", "escalation_policy_version", ["policy_version"], ["version"]
        )
        op.execute(f"DROP INDEX {INDEX}")
    op.execute("ALTER TABLE task DROP COLUMN policy")
    op.create_index(INDEX, "task", ["policy_version", "state"], unique=False)


def downgrade() -> None:
    """Each task's own snapshot again, from its version's rules."""
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    op.drop_index(INDEX, table_name="task")
    op.add_column("task", sa.Column("policy", _JSON, nullable=False, server_default=sa.text("'{}'")))
    rules = sa.select(kept.c.body).where(kept.c.version == task.c.policy_version).scalar_subquery()
    op.execute(task.update().where(task.c.policy_version.is_not(None)).values(policy=rules))
    if postgres:
        op.alter_column("task", "policy", server_default=None)
        op.drop_constraint(FOREIGN_KEY, "task", type_="foreignkey")
        op.execute(f"CREATE INDEX {INDEX} ON task ((CAST(policy ->> 'version' AS INTEGER)), state)")
    op.execute("ALTER TABLE task DROP COLUMN policy_version")
