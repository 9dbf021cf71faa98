"""digests keyed by department and day

A digest no longer marks its items (`digest_id`, status `digested` on every item row): it records the id
window of its department's notices on its channel, (items_after, items_through], and finds them by it.

Upgrade: each existing digest gets the window of the items it listed; a department's last digest ends
before the first of its notices not listed yet, so that those go into the next digest. The items keep
`digested` (their history); `digest_id` and its index go, an index on (department, channel, kind, id) comes.
Downgrade: `digest_id` comes back, set from the windows (and `digested` on the pending items of digest
delivery); digests never claimed (their items not frozen yet) are removed so the older release composes
them again from their items.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The items each old digest listed; then the one before it of the same department and channel.
_THROUGH = """
UPDATE notification_outbox SET items_through = coalesce(
  (SELECT max(i.id) FROM notification_outbox AS i WHERE i.digest_id = notification_outbox.id),
  (SELECT max(i.id) FROM notification_outbox AS i
   WHERE i.digest_id IS NOT NULL AND i.department_id = notification_outbox.department_id
     AND i.channel = notification_outbox.channel AND i.id < notification_outbox.id),
  0)
WHERE kind = 'digest'
"""
# A department's last digest ends before its first notice that no digest listed (they go into the next).
_UNLISTED = """
UPDATE notification_outbox SET items_through = (
  SELECT min(i.id) - 1 FROM notification_outbox AS i
  WHERE i.kind = 'notice' AND i.digest_id IS NULL AND i.status NOT IN ('skipped', 'digested')
    AND i.department_id = notification_outbox.department_id AND i.channel = notification_outbox.channel
    AND i.id <= notification_outbox.items_through)
WHERE kind = 'digest'
  AND NOT EXISTS (SELECT 1 FROM notification_outbox AS later
                  WHERE later.kind = 'digest' AND later.department_id = notification_outbox.department_id
                    AND later.channel = notification_outbox.channel AND later.id > notification_outbox.id)
  AND EXISTS (SELECT 1 FROM notification_outbox AS i
              WHERE i.kind = 'notice' AND i.digest_id IS NULL AND i.status NOT IN ('skipped', 'digested')
                AND i.department_id = notification_outbox.department_id
                AND i.channel = notification_outbox.channel AND i.id <= notification_outbox.items_through)
"""
_AFTER = """
UPDATE notification_outbox SET items_after = coalesce(
  (SELECT max(d.items_through) FROM notification_outbox AS d
   WHERE d.kind = 'digest' AND d.department_id = notification_outbox.department_id
     AND d.channel = notification_outbox.channel AND d.id < notification_outbox.id),
  0)
WHERE kind = 'digest'
"""
_DIGEST_IDS = """
UPDATE notification_outbox SET digest_id = (
  SELECT min(d.id) FROM notification_outbox AS d
  WHERE d.kind = 'digest' AND d.attempts > 0 AND d.department_id = notification_outbox.department_id
    AND d.channel = notification_outbox.channel
    AND notification_outbox.id > d.items_after AND notification_outbox.id <= d.items_through)
WHERE kind = 'notice' AND status <> 'skipped'
"""
_DIGESTED = """
UPDATE notification_outbox SET status = 'digested'
WHERE kind = 'notice' AND delivery = 'digest' AND status = 'pending' AND digest_id IS NOT NULL
"""
# Never claimed, so never frozen: the older release would mail it empty; it composes them again instead.
_UNCLAIMED = "DELETE FROM notification_outbox WHERE kind = 'digest' AND attempts = 0 AND status = 'pending'"


def _defer_foreign_keys() -> None:
    # SQLite's batch mode copies the table and drops the old one while rows point at rows of it
    # (digest_id); checked at commit, the references hold.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def upgrade() -> None:
    """Digest windows instead of marks on the items."""
    _defer_foreign_keys()
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("items_after", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("items_through", sa.Integer(), nullable=True))
    for statement in (_THROUGH, _UNLISTED, _AFTER):
        op.execute(statement)
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_outbox_fold")
        batch_op.drop_constraint("fk_notification_outbox_digest_id_notification_outbox", type_="foreignkey")
        batch_op.drop_column("digest_id")
        batch_op.create_index(
            "ix_notification_outbox_items", ["department_id", "channel", "kind", "id"], unique=False
        )


def downgrade() -> None:
    """`digest_id` on the items again, from the windows."""
    _defer_foreign_keys()
    # The column comes while it is empty (a table copy with rows pointing at rows of the old table would
    # fail SQLite's check at commit), it is filled, and the windows go without another copy.
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_outbox_items")
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_notification_outbox_digest_id_notification_outbox",
            "notification_outbox",
            ["digest_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_notification_outbox_fold", ["department_id", "channel", "digest_id"], unique=False
        )
    for statement in (_DIGEST_IDS, _DIGESTED, _UNCLAIMED):
        op.execute(statement)
    for column in ("items_through", "items_after"):
        op.execute(f"ALTER TABLE notification_outbox DROP COLUMN {column}")
