"""What every page shares: the session (login, CSRF token, language, flash), rendering with autoescape, the
error page, and the route class that turns any failure into a friendly page instead of a 500."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Final, TypedDict
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from duban.api.deps import MAX_ID, SessionDep
from duban.api.pages.display import Original, day, display, local_time, shown_in, traditional
from duban.api.pages.i18n import english
from duban.api.pages.runtime_banner import reminders_stopped
from duban.api.problems import register_error_status, status_for
from duban.api.users import PasswordChangeRequired
from duban.core import clock
from duban.core.config import get_settings
from duban.core.errors import DubanError
from duban.tasks.enums import Role
from duban.tasks.models import Department, User
from duban.workflow.errors import ActionForbidden

log = logging.getLogger("duban.pages")

TEMPLATES: Final = Path(__file__).resolve().parents[1] / "templates"
STATIC: Final = Path(__file__).resolve().parents[1] / "static"
SESSION_COOKIE: Final = "duban_session"
SESSION_SECONDS: Final = 12 * 3600
LANGUAGES: Final = ("zh", "en")
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class PageError(DubanError):
    """Base of the pages' own errors."""

    code = "page_error"


class LoginRequired(PageError):
    """No signed-in user: the page sends the browser to /login."""

    code = "login_required"


class CsrfRejected(PageError):
    """A form without the session's CSRF token (or from another origin)."""

    code = "csrf_rejected"


class FormInvalid(PageError):
    """A form field that cannot be used; `field` names it."""

    code = "form_invalid"


register_error_status(LoginRequired, 401)
register_error_status(CsrfRejected, 403)
register_error_status(FormInvalid, 422)


def session_secret() -> str:
    """The session cookie's signing key, derived from DUBAN_SECRET_KEY for this purpose only."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"duban-pages-session", hashlib.sha256).hexdigest()


def session_options() -> dict[str, Any]:
    """SessionMiddleware settings: HttpOnly and SameSite=Lax always, Secure in production."""
    return {
        "secret_key": session_secret(),
        "session_cookie": SESSION_COOKIE,
        "max_age": SESSION_SECONDS,
        "same_site": "lax",
        "https_only": get_settings().env == "production",
    }


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def language(request: Request) -> str:
    """The reader's language: zh (default) or en."""
    lang = request.session.get("lang")
    return lang if lang in LANGUAGES else "zh"


def flash(request: Request, zh: str, en: str, kind: str = "ok") -> None:
    """A message shown once on the next page."""
    messages = list(request.session.get("flash", []))[-4:]
    messages.append([kind, zh, en])
    request.session["flash"] = messages


def flash_error(request: Request, error: DubanError) -> None:
    """A domain error as a flash message."""
    flash(request, error.message_zh, error.message_en, "error")


def safe_next(value: object, default: str = "/") -> str:
    """A local path to go to after a form (never another site)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if any(ch in value for ch in "\\\r\n\t") or urlsplit(value).netloc:
        return default
    return value[:2000]


def redirect(url: str) -> RedirectResponse:
    """See-other to a local page (after a POST)."""
    return RedirectResponse(url, status_code=303)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's and it comes from this site."""
    form = await request.form(max_files=0, max_fields=4000)
    token = form.get("csrf_token")
    expected = request.session.get("csrf")
    if (
        not isinstance(token, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(token, expected)
    ):
        raise CsrfRejected(
            "表单已失效（缺少或错误的校验码），请刷新页面后重试",
            "The form has expired (missing or wrong CSRF token); reload the page and try again",
        )
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfRejected("表单来自其他网站，已拒绝", "The form was posted from another site; refused")
    return form


Form = Annotated[FormData, Depends(checked_form)]


def signed_in_user(request: Request, session: SessionDep) -> User:
    """The signed-in, active user (even one that must still change its initial password), or LoginRequired."""
    user_id = request.session.get("uid")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        request.session.pop("uid", None)
        raise LoginRequired("请先登录", "Please sign in")
    request.state.page_user = user
    if user.department_id is not None:
        department = session.get(Department, user.department_id)
        request.state.page_department = department.name if department else ""
    return user


def current_user(request: Request, session: SessionDep) -> User:
    """The signed-in, active user, or LoginRequired; PasswordChangeRequired (to /password) while it still
    has its initial password."""
    user = signed_in_user(request, session)
    if user.must_change_password:
        raise PasswordChangeRequired("请先修改初始密码", "Change your initial password first")
    return user


PageUser = Annotated[User, Depends(current_user)]
AnyPageUser = Annotated[User, Depends(signed_in_user)]


def office_user(user: PageUser) -> User:
    """The signed-in user when it is the committee office (or an administrator)."""
    if user.role not in (Role.office, Role.admin):
        raise ActionForbidden("此页面仅供委员会办公室使用", "This page is for the committee office")
    return user


def department_user(user: PageUser) -> User:
    """The signed-in user when it belongs to a department."""
    if user.role is not Role.department or user.department_id is None:
        raise ActionForbidden("此页面仅供成员单位使用", "This page is for member departments")
    return user


OfficeUser = Annotated[User, Depends(office_user)]
DepartmentUser = Annotated[User, Depends(department_user)]


class Trail(TypedDict):
    """What the audit log records of a page action besides the actor: the request and the user's label."""

    request_id: str | None
    actor_label: str


def trail(request: Request, user: User) -> Trail:
    """The audit fields of an action taken from a page (passed on as `**trail(request, user)`)."""
    return {"request_id": getattr(request.state, "request_id", None), "actor_label": user.label}


def form_version(form: FormData) -> int | None:
    """The optional `version` a form posts for optimistic locking (FormInvalid when it is not an id)."""
    raw = str(form.get("version") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > MAX_ID:
        raise FormInvalid("版本号无效", "The version is not valid", field="version")
    return int(raw)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The pages' Jinja2 environment: autoescape on for every template, undefined names fail."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=display,
    )
    env.filters["localtime"] = local_time
    env.filters["original"] = Original
    env.tests["traditional"] = traditional
    env.filters["day"] = day
    return env


def _query_with(request: Request) -> Callable[..., str]:
    def query_with(**changes: object) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and k != "page"]
        for key, value in changes.items():
            if value is None or value == "":
                continue
            values = value if isinstance(value, list | tuple) else [value]
            params.extend((key, str(v)) for v in values)
        return "?" + urlencode(params) if params else "?"

    return query_with


def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page template with the shared context (user, language, CSRF token, flash messages)."""
    lang = language(request)

    def t(text: str) -> str:
        return english(text) if lang == "en" else text

    def says(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    messages = request.session.pop("flash", []) if "session" in request.scope else []
    values = {
        "request": request,
        "t": t,
        "says": says,
        "lang": lang,
        "user": getattr(request.state, "page_user", None),
        "user_department": getattr(request.state, "page_department", ""),
        "csrf_token": csrf_token(request) if "session" in request.scope else "",
        "messages": messages,
        "today": clock.today(),
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "query_with": _query_with(request),
        "reminders_stopped": lambda: reminders_stopped(getattr(request.state, "db_session", None)),
        **(context or {}),
    }
    with shown_in(lang):
        html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, zh: str, en: str) -> HTMLResponse:
    """The friendly error page (Chinese or English, with a way back)."""
    return render(request, "error.html", {"status": status, "message_zh": zh, "message_en": en}, status)


def _login_redirect(request: Request) -> RedirectResponse:
    if request.method != "GET":  # a form posted after the session ended: start again from the sign-in
        return RedirectResponse("/login", status_code=303)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


class PageRoute(APIRoute):
    """A route whose failures become pages: login redirect, 403/404/409 with the message, never a 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler with the page error handling and the security headers."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            response: Response
            try:
                response = await handler(request)
            except LoginRequired:
                response = _login_redirect(request)
            except PasswordChangeRequired:
                response = RedirectResponse("/password", status_code=303)
            except DubanError as error:
                response = error_page(request, status_for(error), error.message_zh, error.message_en)
            except RequestValidationError:
                response = error_page(
                    request, 400, "地址或参数无效", "The address or one of its parameters is not valid"
                )
            except StarletteHTTPException as error:
                response = error_page(
                    request, error.status_code, "无法打开此页面", "This page cannot be opened"
                )
            except Exception:
                log.exception("page %s %s failed", request.method, request.url.path)
                response = error_page(
                    request, 500, "系统出错，已记录，请稍后再试", "Something went wrong; it has been logged"
                )
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return guarded
