"""plan identity (文号, issuer, title key, basis) and one revision record per plan revision (issue 14)

Existing plans get their identity read from their stored text by this release's parser: the key changes
only for a plan that now has a 文号 or an issuer (number and issuer identities); a plan identified by its
title, file name or content keeps the key it had, which is the key such a document still gets — so
importing the same files again finds them `unchanged`. Each existing plan gets one revision record, for its
current revision (`reason` "backfill"; earlier revisions were not recorded before this revision).

Downgrade gives number and issuer plans back the title key older releases look for (where two plans would
share it, the later keeps its key).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import duban.core.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_plan = sa.table(
    "plan",
    sa.column("id", sa.Integer()),
    sa.column("key", sa.String()),
    sa.column("title", sa.String()),
    sa.column("source_name", sa.String()),
    sa.column("source_text", sa.Text()),
    sa.column("content_hash", sa.String()),
    sa.column("revision", sa.Integer()),
    sa.column("identity_basis", sa.String()),
    sa.column("doc_number", sa.String()),
    sa.column("issuer", sa.String()),
    sa.column("title_key", sa.String()),
    sa.column("updated_at", duban.core.types.UTCDateTime()),
)
_revision = sa.table(
    "plan_revision",
    sa.column("plan_id", sa.Integer()),
    sa.column("revision", sa.Integer()),
    sa.column("content_hash", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("identity_basis", sa.String()),
    sa.column("source_name", sa.String()),
    sa.column("added", sa.Integer()),
    sa.column("removed", sa.Integer()),
    sa.column("changed", sa.Integer()),
    sa.column("created_at", duban.core.types.UTCDateTime()),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "plan_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("identity_basis", sa.String(length=16), nullable=False),
        sa.Column("source_name", sa.String(length=512), nullable=True),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", duban.core.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user.id"], name=op.f("fk_plan_revision_actor_user_id_user")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_plan_revision_plan_id_plan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_revision")),
        sa.UniqueConstraint("plan_id", "revision", name="uq_plan_revision_plan_id"),
    )
    with op.batch_alter_table("plan_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_revision_plan_id"), ["plan_id"], unique=False)

    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("identity_basis", sa.String(length=16), nullable=False, server_default="title")
        )
        batch_op.add_column(sa.Column("doc_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("issuer", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("title_key", sa.String(length=512), nullable=True))
        batch_op.create_index(batch_op.f("ix_plan_doc_number"), ["doc_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_title_key"), ["title_key"], unique=False)

    _backfill()


def _backfill() -> None:
    """Each plan's identity from its stored text, and a revision record for its current revision."""
    from duban.tasks.parser import ParseError, parse
    from duban.tasks.plan_identity import identity_of, squeeze_title

    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            _plan.c.id,
            _plan.c.key,
            _plan.c.title,
            _plan.c.source_name,
            _plan.c.content_hash,
            _plan.c.revision,
            _plan.c.updated_at,
        ).order_by(_plan.c.id)
    ).all()
    taken = {row.key for row in rows}
    for row in rows:
        text = conn.execute(sa.select(_plan.c.source_text).where(_plan.c.id == row.id)).scalar_one()
        values: dict[str, object] = {"identity_basis": "title", "title_key": squeeze_title(row.title)}
        try:
            identity = identity_of(parse(text), row.source_name, row.content_hash)
        except (ParseError, ValueError):
            identity = None
        if identity is not None:
            values.update(
                identity_basis=identity.basis,
                doc_number=identity.doc_number[:64] if identity.doc_number else None,
                issuer=identity.issuer[:256] if identity.issuer else None,
                title_key=identity.title_key[:512] if identity.title_key else None,
            )
            if identity.basis in ("number", "issuer") and identity.key not in taken:
                values["key"] = identity.key
                taken.add(identity.key)
            elif identity.basis in ("number", "issuer"):
                values.update(identity_basis="title", doc_number=None, issuer=None)
        conn.execute(_plan.update().where(_plan.c.id == row.id).values(**values))
        conn.execute(
            _revision.insert().values(
                plan_id=row.id,
                revision=row.revision,
                content_hash=row.content_hash,
                reason="backfill",
                identity_basis=values["identity_basis"],
                source_name=row.source_name,
                added=0,
                removed=0,
                changed=0,
                created_at=row.updated_at,
            )
        )


def _legacy_keys() -> None:
    """Number and issuer plans back on the title key of older releases, where it is free."""
    conn = op.get_bind()
    taken = set(conn.execute(sa.select(_plan.c.key)).scalars())
    rows = conn.execute(
        sa.select(_plan.c.id, _plan.c.title_key)
        .where(_plan.c.identity_basis.in_(("number", "issuer")), _plan.c.title_key.is_not(None))
        .order_by(_plan.c.id)
    ).all()
    for row in rows:
        key = hashlib.sha256(f"title:{row.title_key}".encode()).hexdigest()[:32]
        if key not in taken:
            conn.execute(_plan.update().where(_plan.c.id == row.id).values(key=key))
            taken.add(key)


def downgrade() -> None:
    """Revert this revision."""
    _legacy_keys()
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_title_key"))
        batch_op.drop_index(batch_op.f("ix_plan_doc_number"))
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too): batch mode would copy the table and drop the old one,
    # which SQLite's foreign keys refuse while measures and tasks refer to the plans.
    for column in ("title_key", "issuer", "doc_number", "identity_basis"):
        op.execute(f'ALTER TABLE "plan" DROP COLUMN {column}')

    with op.batch_alter_table("plan_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_revision_plan_id"))

    op.drop_table("plan_revision")
