"""PostgreSQL roles: the owner runs the migrations and owns every table; the application connects as a role
that owns nothing and may only do the application's work.

The application role gets, in the owner's schema:

- SELECT, INSERT, UPDATE, DELETE on every ordinary table;
- SELECT and INSERT only on the append-only (audit) tables, read from their triggers
  (`duban.migrations.triggers.append_only_tables`); SELECT only on `alembic_version`;
- USAGE and SELECT on every sequence;
- TRUNCATE, REFERENCES and TRIGGER nowhere; it owns nothing, so it cannot DROP or ALTER anything.

`setup_app_role` creates the role when it is missing (tolerating another process creating it at the same
time: roles belong to the whole cluster), grants the above on every table there is, sets the owner's
default privileges so that tables created later start with the ordinary grants, and then checks the result
table by table with `has_table_privilege` (which also sees grants to PUBLIC and through role membership).
`duban db upgrade` runs it after every upgrade, so each new table gets the right grants without anyone
remembering; an audit table created later loses UPDATE and DELETE at that step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url

from duban.core.errors import DubanError
from duban.migrations.triggers import PG_APPEND_ONLY_TABLES

ORDINARY = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY = ("SELECT", "INSERT")
READ_ONLY = ("SELECT",)
READ_ONLY_TABLES = ("alembic_version",)
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")


class RoleSetupError(DubanError):
    """The application role cannot be set up as required."""

    code = "database_role_error"


@dataclass(frozen=True)
class RoleSetup:
    """What `setup_app_role` did."""

    role: str
    owner: str
    created: bool
    password_changed: bool
    tables: int
    sequences: int
    append_only: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def app_role_in(app_url: str, owner_url: str) -> tuple[str, str | None] | None:
    """The role (and password) `app_url` connects as, when it is another role than `owner_url`'s on the
    same PostgreSQL database; None for SQLite, one role for both, or another server or database."""
    app, owner = make_url(app_url), make_url(owner_url)
    if app.get_backend_name() != "postgresql" or owner.get_backend_name() != "postgresql":
        return None
    if not app.username or app.username == owner.username:
        return None
    if (app.host, app.port, app.database) != (owner.host, owner.port, owner.database):
        return None
    return app.username, app.password if isinstance(app.password, str) else None


def setup_app_role(owner_url: str, role: str, password: str | None = None) -> RoleSetup:
    """Create the application role if missing, grant it what the application needs on every table of the
    owner's schema and nothing more, and check the result. Connects as the owner (`owner_url`).

    A password is set when the role is created, and afterwards only when the role cannot sign in with it
    (a changed password in the settings), so running this on every deploy changes nothing at the server."""
    import psycopg

    dsn = libpq_dsn(owner_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        owner = str(_one(conn, "SELECT current_user"))
        if role == owner:
            raise RoleSetupError(
                f"应用角色 {role} 与迁移角色相同：应用须以另一个角色连接",
                f"the application role {role} is the owner: the application must connect as another role",
            )
        created = _create_role(conn, role, password)
        _refuse_powerful(conn, role, owner)
        with conn.transaction():
            # One setup at a time per database (two at once would update the same ACLs: "tuple
            # concurrently updated"); advisory locks belong to the database they are taken in.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('duban.migrations.roles'))")
            tables, sequences, append_only = _grant(conn, role)
        password_changed = False
        if password is not None and not created and not _can_sign_in(owner_url, role, password):
            _set_password(conn, role, password)
            password_changed = True
        warnings = _check(conn, role, append_only)
    return RoleSetup(role, owner, created, password_changed, tables, sequences, append_only, warnings)


def _one(conn: Any, query: Any, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _create_role(conn: Any, role: str, password: str | None) -> bool:
    import psycopg
    from psycopg import errors, sql

    if _one(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
        return False
    statement = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION").format(
        sql.Identifier(role)
    )
    if password is not None:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(_hashed(conn, role, password)))
    try:
        conn.execute(statement)
    except (errors.DuplicateObject, errors.UniqueViolation):
        return False  # another process created it a moment ago: the same role
    except psycopg.errors.InsufficientPrivilege as error:
        raise RoleSetupError(
            f"迁移角色无权创建角色 {role}：请由数据库管理员创建（CREATE ROLE {role} LOGIN PASSWORD …）后重试",
            f"the owner may not create role {role}: have a superuser run CREATE ROLE {role} LOGIN "
            f"PASSWORD … and try again ({error.diag.message_primary})",
        ) from error
    return True


def _hashed(conn: Any, role: str, password: str) -> str:
    """The password hashed on this side (SCRAM, or what the server's password_encryption asks for), so the
    clear text never reaches the server or its statement log."""
    return bytes(conn.pgconn.encrypt_password(password.encode(), role.encode())).decode()


def _set_password(conn: Any, role: str, password: str) -> None:
    from psycopg import errors, sql

    try:
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(_hashed(conn, role, password))
            )
        )
    except errors.InsufficientPrivilege as error:
        raise RoleSetupError(
            f"角色 {role} 不能用设置中的密码登录，迁移角色又无权修改其密码：请由数据库管理员修改",
            f"role {role} cannot sign in with the configured password and the owner may not change it: "
            "have a superuser set it",
        ) from error


def _can_sign_in(owner_url: str, role: str, password: str) -> bool:
    """False when the server asked `role` for a password and refused this one; True otherwise (signed in,
    or turned away for another reason, such as pg_hba.conf letting the role in from other hosts only)."""
    import psycopg

    url = make_url(owner_url).set(username=role, password=password)
    try:
        with psycopg.connect(libpq_dsn(url.render_as_string(hide_password=False)), connect_timeout=10):
            return True
    except psycopg.OperationalError as error:
        # A refused connection carries no SQLSTATE; whether the server asked for a password does.
        return not getattr(getattr(error, "pgconn", None), "used_password", False)


def _refuse_powerful(conn: Any, role: str, owner: str) -> None:
    """The application role must not be a superuser, a member of the owner, or the owner of anything here."""
    if _one(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,)):
        raise RoleSetupError(
            f"应用角色 {role} 是超级用户：请换一个普通角色",
            f"the application role {role} is a superuser: use an ordinary role",
        )
    if _one(conn, "SELECT pg_has_role(%s, %s, 'USAGE')", (role, owner)):
        raise RoleSetupError(
            f"应用角色 {role} 继承了迁移角色 {owner} 的权限（角色成员）：请撤销（REVOKE {owner} FROM {role}）",
            f"the application role {role} inherits the owner {owner}'s rights (role membership): "
            f"REVOKE {owner} FROM {role}",
        )
    owned = [str(name) for (name,) in conn.execute(_OWNED, {"role": role})]
    if owned:
        raise RoleSetupError(
            f"应用角色 {role} 拥有本数据库中的 {len(owned)} 个对象（{', '.join(owned[:5])}）：应用角色不应拥有"
            f"任何对象，请交给迁移角色（REASSIGN OWNED BY {role} TO {owner}）",
            f"the application role {role} owns {len(owned)} objects of this database ({', '.join(owned[:5])}): "
            f"it must own nothing; hand them to the owner (REASSIGN OWNED BY {role} TO {owner})",
        )


_OWNED = """
    SELECT relname FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %(role)s)
    UNION ALL SELECT nspname FROM pg_namespace
        WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = %(role)s)
    UNION ALL SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
        AND proowner = (SELECT oid FROM pg_roles WHERE rolname = %(role)s)
"""
_RELATIONS = """
    SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace
        AND relkind = ANY(%(kinds)s::"char"[]) ORDER BY relname
"""
_TABLE_PRIVILEGES = """
    SELECT relname, p, has_table_privilege(%(role)s, oid, p) FROM pg_class, unnest(%(privileges)s::text[]) p
    WHERE relnamespace = current_schema()::regnamespace AND relkind = ANY(%(kinds)s::"char"[]) ORDER BY relname, p
"""
_SEQUENCE_PRIVILEGES = """
    SELECT relname, p, has_sequence_privilege(%(role)s, oid, p) FROM pg_class, unnest(%(privileges)s::text[]) p
    WHERE relnamespace = current_schema()::regnamespace AND relkind = ANY(%(kinds)s::"char"[]) ORDER BY relname, p
"""
TABLE_KINDS = ["r", "p", "v", "m", "f"]
SEQUENCE_KINDS = ["S"]


def _relations(conn: Any, kinds: list[str]) -> list[str]:
    rows = conn.execute(_RELATIONS, {"kinds": kinds})
    return [str(name) for (name,) in rows]


def _table_privileges(table: str, append_only: set[str]) -> tuple[str, ...]:
    if table in READ_ONLY_TABLES:
        return READ_ONLY
    return APPEND_ONLY if table in append_only else ORDINARY


def _grant(conn: Any, role: str) -> tuple[int, int, tuple[str, ...]]:
    from psycopg import errors, sql

    who = sql.Identifier(role)
    schema = sql.Identifier(str(_one(conn, "SELECT current_schema()")))
    database = sql.Identifier(str(_one(conn, "SELECT current_database()")))
    try:
        with conn.transaction():
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, who))
    except errors.InsufficientPrivilege:
        pass  # not the database's owner: CONNECT stays as the DBA set it (PUBLIC has it by default)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, who))
    append_only = {str(name) for (name,) in conn.execute(PG_APPEND_ONLY_TABLES)}
    tables = _relations(conn, TABLE_KINDS)
    for table in tables:
        name = sql.Identifier(table)
        privileges = sql.SQL(", ").join(sql.SQL(p) for p in _table_privileges(table, append_only))
        conn.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(name, who))
        conn.execute(sql.SQL("GRANT {} ON TABLE {} TO {}").format(privileges, name, who))
    sequences = _relations(conn, SEQUENCE_KINDS)
    for sequence in sequences:
        name = sql.Identifier(sequence)
        conn.execute(sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(name, who))
        conn.execute(sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(name, who))
    # What the owner creates later starts with the ordinary grants (the next run of this narrows a new
    # append-only table): a migration never leaves the application without access to a new table.
    conn.execute(
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(schema, who)
    )
    conn.execute(
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(
            schema, who
        )
    )
    return len(tables), len(sequences), tuple(sorted(append_only))


def _check(conn: Any, role: str, append_only: tuple[str, ...]) -> list[str]:
    """Raise unless every table and sequence has exactly the intended privileges for `role` (counting
    grants to PUBLIC and through memberships); warn of what reaches beyond tables (CREATE in the schema)."""
    audit = set(append_only)
    wrong: list[str] = []
    rows = conn.execute(
        _TABLE_PRIVILEGES,
        {"role": role, "privileges": list(TABLE_PRIVILEGES), "kinds": TABLE_KINDS},
    )
    for table, privilege, has in rows:
        if has != (privilege in _table_privileges(table, audit)):
            wrong.append(f"{table}: {'has' if has else 'lacks'} {privilege}")
    rows = conn.execute(
        _SEQUENCE_PRIVILEGES,
        {"role": role, "privileges": [*SEQUENCE_PRIVILEGES, "UPDATE"], "kinds": SEQUENCE_KINDS},
    )
    for sequence, privilege, has in rows:
        if has != (privilege in SEQUENCE_PRIVILEGES):
            wrong.append(f"{sequence}: {'has' if has else 'lacks'} {privilege}")
    if wrong:
        raise RoleSetupError(
            f"授权后应用角色 {role} 的权限仍不符合要求（来自 PUBLIC 或其他角色的授权？）：{'; '.join(wrong[:10])}",
            f"after granting, role {role} still has the wrong privileges (granted to PUBLIC or through "
            f"another role?): {'; '.join(wrong[:10])}",
        )
    warnings: list[str] = []
    schema = str(_one(conn, "SELECT current_schema()"))
    if _one(conn, "SELECT has_schema_privilege(%s, %s, 'CREATE')", (role, schema)):
        warnings.append(
            f"应用角色 {role} 可在模式 {schema} 中建表（PostgreSQL 15 以前的默认）：建议 REVOKE CREATE ON SCHEMA "
            f"{schema} FROM PUBLIC / role {role} may create tables in schema {schema} (the default before "
            f"PostgreSQL 15): consider REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC"
        )
    return warnings
