"""用户管理 for the administrator: list users, create one, set a password, disable and enable (every form
CSRF-checked; a disabled user's sessions and tokens stop with their next request)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from duban.api.deps import MAX_ID, SessionDep
from duban.api.pages.web import Form, FormInvalid, PageRoute, PageUser, flash, redirect, render
from duban.api.problems import status_for
from duban.api.throttle import forget_account
from duban.api.users import create_user, list_users, set_active, set_password
from duban.core.errors import DubanError
from duban.tasks.enums import Role
from duban.tasks.models import Department, User
from duban.workflow.errors import ActionForbidden

router = APIRouter(route_class=PageRoute, include_in_schema=False)

UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
ROLE_LABELS = {Role.office: "委员会办公室", Role.department: "成员单位", Role.admin: "系统管理员"}


def admin_user(user: PageUser) -> User:
    """The signed-in user when it is an administrator."""
    if user.role is not Role.admin:
        raise ActionForbidden("此页面仅供系统管理员使用", "This page is for administrators")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def _page(
    request: Request, session: Session, *, error: DubanError | None = None, values: FormData | None = None
) -> Response:
    departments = session.exec(
        select(Department.code, Department.name)
        .where(col(Department.active).is_(True))
        .order_by(col(Department.id))
    ).all()
    context = {
        "users": list_users(session),
        "departments": departments,
        "roles": ROLE_LABELS,
        "error": error,
        "values": values,
    }
    return render(request, "users.html", context, status_for(error) if error is not None else 200)


def _again(request: Request, session: Session, error: DubanError, form: FormData) -> Response:
    session.rollback()
    return _page(request, session, error=error, values=form)


def _text(form: FormData, name: str, limit: int) -> str:
    value = str(form.get(name) or "").strip()
    if len(value) > limit:
        raise FormInvalid(f"{name} 过长", f"{name} is too long", field=name)
    return value


def _new_password(form: FormData) -> str:
    password, again = str(form.get("password") or ""), str(form.get("password_again") or "")
    if password != again:
        raise FormInvalid("两次输入的密码不一致", "The two passwords differ", field="password")
    return password


def _target(session: Session, user_id: int) -> User:
    found = session.get(User, user_id)
    if found is None:
        raise FormInvalid(f"没有用户 {user_id}", f"No user {user_id}", field="user")
    return found


@router.get("/users")
def users(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    """Every user with role, department, status; the forms to create, set a password, disable, enable."""
    return _page(request, session)


@router.post("/users")
def create(request: Request, session: SessionDep, admin: AdminUser, form: Form) -> Response:
    """Create a user (always with an initial password, changed at its first sign-in)."""
    try:
        role_value = _text(form, "role", 16)
        if role_value not in {r.value for r in Role}:
            raise FormInvalid("请选择角色", "Choose a role", field="role")
        role = Role(role_value)
        department = _text(form, "department", 64) or None
        user = create_user(
            session,
            _text(form, "username", 64),
            role,
            _new_password(form),
            department if role is Role.department else None,
            _text(form, "display_name", 128),
            initial=True,  # the administrator knows it: the user replaces it at the first sign-in
        )
    except DubanError as error:
        return _again(request, session, error, form)
    flash(
        request,
        f"已创建用户 {user.username}，首次登录须修改密码",
        f"User {user.username} created; the password must be changed at the first sign-in",
    )
    return redirect("/users")


@router.post("/users/{user_id}/password")
def change_password(
    request: Request, session: SessionDep, admin: AdminUser, form: Form, user_id: UserId
) -> Response:
    """Set a user's password, an initial one it changes at its next sign-in (and lift the sign-in throttle
    on the account)."""
    try:
        target = _target(session, user_id)
        set_password(session, target.username, _new_password(form), initial=True)
        forget_account(session, target.username)
    except DubanError as error:
        return _again(request, session, error, form)
    flash(
        request,
        f"用户 {target.username} 的密码已重设，下次登录须修改密码",
        f"Password of {target.username} reset; it must be changed at the next sign-in",
    )
    return redirect("/users")


@router.post("/users/{user_id}/disable")
def disable(request: Request, session: SessionDep, admin: AdminUser, form: Form, user_id: UserId) -> Response:
    """Disable a user: its sessions and tokens stop working at once (never one's own account)."""
    try:
        target = _target(session, user_id)
        if target.id == admin.id:
            raise FormInvalid("不能停用自己的账号", "You cannot disable your own account", field="user")
        set_active(session, target.username, False)
    except DubanError as error:
        return _again(request, session, error, form)
    flash(request, f"用户 {target.username} 已停用", f"User {target.username} disabled")
    return redirect("/users")


@router.post("/users/{user_id}/enable")
def enable(request: Request, session: SessionDep, admin: AdminUser, form: Form, user_id: UserId) -> Response:
    """Enable a user again."""
    try:
        target = _target(session, user_id)
        set_active(session, target.username, True)
        forget_account(session, target.username)
    except DubanError as error:
        return _again(request, session, error, form)
    flash(request, f"用户 {target.username} 已启用", f"User {target.username} enabled")
    return redirect("/users")
