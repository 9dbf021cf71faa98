"""Sign in and out, the language switch, and the start page that sends each role to its own page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from duban.api.deps import SessionDep
from duban.api.pages.web import (
    LANGUAGES,
    AnyPageUser,
    Form,
    PageRoute,
    flash,
    redirect,
    render,
    safe_next,
)
from duban.api.problems import TooManyAttempts
from duban.api.throttle import client_address, guarded_sign_in
from duban.api.users import UserError, change_own_password
from duban.tasks.enums import Role
from duban.tasks.models import User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def home_of(user: User) -> str:
    """Where a role starts: the office on the overdue board, a department on its task list."""
    return "/tasks" if user.role is Role.department else "/overdue"


@router.get("/")
def index(request: Request, session: SessionDep) -> RedirectResponse:
    """The start page: the user's own page, or the sign-in form."""
    user_id = request.session.get("uid")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        return redirect("/login")
    return redirect(home_of(user))


@router.get("/login")
def login_form(request: Request, next: Annotated[str, Query(max_length=2000)] = "") -> Response:
    """The sign-in form."""
    return render(request, "login.html", {"next": safe_next(next, ""), "username": "", "error": None})


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    """Check the credentials (throttled: 429 with Retry-After after repeated failures); a new session on
    success, the form again with the message otherwise."""
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:256]
    target = safe_next(form.get("next"), "")
    try:
        user = (
            guarded_sign_in(username, password, client_address(request), "page")
            if username and password
            else None
        )
    except TooManyAttempts as refused:
        context = {"next": target, "username": username, "error": (refused.message_zh, refused.message_en)}
        response = render(request, "login.html", context, status=429)
        response.headers["Retry-After"] = str(refused.extra["retry_after"])
        return response
    if user is None or user.id is None:
        error = ("用户名或密码不正确", "The username or the password is not correct")
        if not username or not password:
            error = ("请输入用户名和密码", "Enter your username and password")
        context = {"next": target, "username": username, "error": error}
        return render(request, "login.html", context, status=401 if username and password else 400)
    lang = request.session.get("lang")
    request.session.clear()  # a fresh session: nothing carried over from before sign-in
    request.session.update({"uid": user.id, "csrf": secrets.token_urlsafe(32)})
    if lang in LANGUAGES:
        request.session["lang"] = lang
    if user.must_change_password:
        flash(
            request, "这是初始密码，请先设置您自己的密码", "This is an initial password: set your own first"
        )
        return redirect("/password")
    flash(
        request,
        f"欢迎，{user.label}",
        f"Welcome, {user.label}",
    )
    return redirect(target or home_of(user))


@router.get("/password")
def password_form(request: Request, user: AnyPageUser) -> Response:
    """The form to change one's own password (where a user with an initial password is sent first)."""
    return render(request, "password.html", {"error": None, "forced": user.must_change_password})


@router.post("/password")
def change_password(request: Request, session: SessionDep, user: AnyPageUser, form: Form) -> Response:
    """Replace one's own password (the current one, then the new one twice); then on to one's start page."""
    current = str(form.get("current") or "")[:256]
    new = str(form.get("password") or "")[:256]
    again = str(form.get("password_again") or "")[:256]
    try:
        if new != again:
            raise UserError(
                "两次输入的新密码不一致", "The two new passwords differ", code="password_mismatch"
            )
        assert user.id is not None
        change_own_password(session, user.id, current, new)
    except UserError as error:
        session.rollback()
        context = {"error": error, "forced": user.must_change_password}
        return render(request, "password.html", context, status=422)
    flash(request, "密码已修改", "Your password has been changed")
    return redirect(home_of(user))


@router.post("/logout")
def logout(request: Request, form: Form) -> RedirectResponse:
    """Sign out: the session is emptied (only the language is kept)."""
    lang = request.session.get("lang")
    request.session.clear()
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return redirect("/login")


@router.get("/lang/{code}")
def switch_language(
    request: Request,
    code: Annotated[str, Path(pattern="^(zh|en)$")],
    next: Annotated[str, Query(max_length=2000)] = "/",
) -> RedirectResponse:
    """Switch the pages between 中文 and English."""
    request.session["lang"] = code
    return redirect(safe_next(next))
