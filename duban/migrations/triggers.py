"""DDL for append-only (audit) tables: triggers refuse UPDATE and DELETE on SQLite and PostgreSQL, and
TRUNCATE on PostgreSQL (SQLite has no TRUNCATE; its `DELETE FROM t` without WHERE meets the DELETE trigger).

The triggers are also the list of audit tables: `append_only_tables()` reads it back from the database, and
the application role's grants (`duban.migrations.roles`) take it from there. A table made append-only by a
later migration through `create_append_only` is therefore guarded and granted SELECT and INSERT only,
without a second list to keep in step.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Connection, text

# The PostgreSQL row trigger's name is `{table}{ROW_TRIGGER}`: what marks a table as append-only.
ROW_TRIGGER = "_no_update_delete"
TRUNCATE_TRIGGER = "_no_truncate"


def _message(table: str) -> str:
    return f"{table} is append-only / 审计记录不可修改或删除"


def create_append_only(table: str) -> None:
    """Make `table` append-only on the current connection's dialect."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{_message(table)}' USING ERRCODE = 'raise_exception';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}{ROW_TRIGGER} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        create_truncate_guard(table)
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{_message(table)}'); END"
        )


def drop_append_only(table: str) -> None:
    """Remove what `create_append_only` made."""
    if op.get_bind().dialect.name == "postgresql":
        drop_truncate_guard(table)
        op.execute(f"DROP TRIGGER IF EXISTS {table}{ROW_TRIGGER} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def create_truncate_guard(table: str) -> None:
    """PostgreSQL: a statement trigger refusing TRUNCATE of `table` (also through `TRUNCATE … CASCADE` of a
    table it references), whoever runs it, the owner included; idempotent. Nothing on SQLite."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}{TRUNCATE_TRIGGER} ON {table}")
    op.execute(
        f"CREATE TRIGGER {table}{TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    )


def drop_truncate_guard(table: str) -> None:
    """Remove what `create_truncate_guard` made."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}{TRUNCATE_TRIGGER} ON {table}")


# The append-only tables of the current schema: those with the row trigger `create_append_only` makes.
PG_APPEND_ONLY_TABLES = (
    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal "
    "AND t.tgname = c.relname || '_no_update_delete' ORDER BY c.relname"
)
assert ROW_TRIGGER in PG_APPEND_ONLY_TABLES
SQLITE_APPEND_ONLY_TABLES = (
    "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name = tbl_name || '_no_update' "
    "ORDER BY tbl_name"
)


def append_only_tables(connection: Connection) -> list[str]:
    """The append-only tables of the connection's schema, read from their triggers."""
    postgres = connection.dialect.name == "postgresql"
    query = PG_APPEND_ONLY_TABLES if postgres else SQLITE_APPEND_ONLY_TABLES
    return [str(name) for name in connection.execute(text(query)).scalars()]
