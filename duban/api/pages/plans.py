"""Plans and their review before issuing: the imported outline beside each task's proposed 牵头/配合/时限
with the reasons; edit one task, edit many at once, map the written units the registry lacks, issue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from duban.api.deps import MAX_ID, SessionDep
from duban.api.pages.web import Form, FormInvalid, OfficeUser, PageRoute, flash, redirect, render
from duban.api.problems import status_for
from duban.api.routers.tasks import actor_of
from duban.core.errors import DubanError
from duban.notifications.calendars import working_calendar
from duban.tasks.enums import DepartmentKind
from duban.tasks.models import Department
from duban.tasks.plan_tree import ATTENTION, keep, opened_parts, plan_tree, shown
from duban.tasks.plan_views import list_plans, plan_detail
from duban.tasks.review import (
    NewDepartment,
    TaskEdit,
    bulk_edit,
    edit_task,
    plan_units,
    resolve_unit,
    review_list,
    split_names,
)
from duban.workflow.issuing import issue_plan
from duban.workflow.scorecards import plan_progress

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PlanId = Annotated[int, Path(ge=1, le=MAX_ID)]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/plans")
def plans(request: Request, session: SessionDep, user: OfficeUser) -> Response:
    """The plans (newest first) with their progress."""
    found = list_plans(session, limit=200)
    progress = plan_progress(session, [p.id for p in found])
    return render(request, "plans.html", {"plans": found, "progress": progress})


FILTERS = ("attention", *ATTENTION)


def review_page(
    request: Request,
    session: Session,
    plan_id: int,
    *,
    error: DubanError | None = None,
    values: FormData | None = None,
) -> Response:
    """The review page of a plan as the outline of the document (again with `error` and the values as
    typed): parts in document order with their counts, filters, the units table, edit and bulk edit."""
    review = review_list(session, plan_id)
    tree = plan_tree(session, plan_id, review)
    choices = session.exec(  # registry order: party and government bodies, then 盟市, then the office's
        select(Department.code, Department.name)
        .where(col(Department.active).is_(True))
        .order_by(col(Department.id))
    ).all()
    failed: dict[int, str] = {}
    if error is not None:
        for problem in error.extra.get("errors", []) or []:
            if isinstance(problem, dict) and isinstance(problem.get("task_id"), int):
                failed[problem["task_id"]] = (
                    f"{problem.get('message_zh', '')} / {problem.get('message_en', '')}"
                )
    query = request.query_params
    show = query.get("show", "")
    show = show if show in FILTERS else ""
    edited = _task_number(values.get("task_id") if values else None)
    editing = edited or _task_number(query.get("edit"))
    focus = editing or _task_number(query.get("open"))
    incomplete: list[Any] = (error.extra.get("tasks") or []) if error is not None else []
    context = {
        "tree": tree,
        "review": review,
        "error": error,
        "failed": failed,
        "incomplete": incomplete,
        "values": values,
        "choices": choices,
        "dept_options": options_of(choices),
        "units": plan_units(session, plan_id),
        "kinds": list(DepartmentKind),
        "edited": edited,
        "editing": editing,
        "show": show,
        "filters": FILTERS,
        "keep": keep,
        "shown": shown,
        "opened": opened_parts(
            tree,
            {focus, *failed, *(_task_number(t.get("id")) for t in incomplete if isinstance(t, dict))},
            everything=bool(show) or query.get("expand") == "all",
        ),
        "debug": query.get("debug") == "1",
        "selected": set(str(v) for v in values.getlist("task")) if values else set(),
    }
    return render(request, "plan_review.html", context, status_for(error) if error else 200)


_OPTION = Markup('<option value="{}"{}>{}</option>')
_SELECTED = Markup(" selected")


def options_of(choices: Sequence[tuple[str, str]]) -> Callable[..., Markup]:
    """`dept_options(by, selected)`: the registry's departments as <option>s with their full names, made in
    Python as one piece of markup (a page converts each output's script; 100 departments × 4 pickers would
    be 800 outputs)."""

    def dept_options(by: str = "name", selected: Iterable[object] = ()) -> Markup:
        chosen = {str(value) for value in selected}
        return Markup("").join(
            _OPTION.format(value, _SELECTED if value in chosen else "", name)
            for code, name in choices
            for value in ((code if by == "code" else name),)
        )

    return dept_options


def _task_number(raw: object) -> int | None:
    text = str(raw or "")
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


@router.get("/plans/{plan_id}")
def plan_review(request: Request, session: SessionDep, user: OfficeUser, plan_id: PlanId) -> Response:
    """The outline beside the proposals, with the edit, bulk-edit and issue forms."""
    return review_page(request, session, plan_id)


def _names(form: FormData, name: str) -> list[str] | None:
    """The names a form sends under `name` (pickers and typed lists, "、"-separated), None when absent."""
    raw = form.getlist(name)
    if not raw:
        return None
    text = "、".join(str(value) for value in raw)
    if len(text) > 2000:
        raise FormInvalid("单位名称过长", "The department list is too long", field=name)
    return split_names(text)


def _deadline(form: FormData) -> dt.date | None:
    raw = str(form.get("deadline") or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise FormInvalid(
            "完成时限须为日期（YYYY-MM-DD）", "The deadline must be a date", field="deadline"
        ) from None


def _remark(form: FormData) -> str:
    remark = str(form.get("remark") or "").strip()
    if len(remark) > 1000:
        raise FormInvalid("备注不能超过 1000 字", "The remark exceeds 1000 characters", field="remark")
    return remark


def _again(request: Request, session: Session, plan_id: int, error: DubanError, form: FormData) -> Response:
    session.rollback()
    return review_page(request, session, plan_id, error=error, values=form)


@router.post("/plans/{plan_id}/tasks/{task_id}")
def edit_one(
    request: Request, session: SessionDep, user: OfficeUser, form: Form, plan_id: PlanId, task_id: TaskId
) -> Response:
    """Edit one draft task's lead, cooperating units and deadline."""
    try:
        version = str(form.get("version") or "")
        outcome = edit_task(
            session,
            TaskEdit(
                task_id=task_id,
                lead=_names(form, "lead"),
                cooperating=_names(form, "cooperating"),
                deadline=_deadline(form),
                expected_version=int(version) if version.isdigit() and int(version) <= MAX_ID else None,
                remark=_remark(form),
            ),
            actor_user_id=user.id,
            actor_label=user.label,
        )
    except DubanError as error:
        return _again(request, session, plan_id, error, form)
    if outcome.changed:
        flash(request, f"任务 {task_id} 已修改", f"Task {task_id} updated")
    else:
        flash(request, f"任务 {task_id} 没有变化", f"Task {task_id} unchanged")
    return redirect(f"/plans/{plan_id}?open={task_id}#task-{task_id}")


def _selected(form: FormData) -> list[tuple[int, int | None]]:
    chosen = []
    for raw in form.getlist("task"):
        task, _, version = str(raw).partition(":")
        if not task.isdigit() or int(task) > MAX_ID or (version and not version.isdigit()):
            raise FormInvalid("选择的任务无效", "A selected task is not valid", field="task")
        chosen.append((int(task), int(version) if version and int(version) <= MAX_ID else None))
    if not chosen:
        raise FormInvalid("请先勾选要批量修改的任务", "Select the tasks to edit first", field="task")
    return chosen


@router.post("/plans/{plan_id}/bulk-edit")
def edit_many(
    request: Request, session: SessionDep, user: OfficeUser, form: Form, plan_id: PlanId
) -> Response:
    """Apply one lead / cooperating / deadline to every selected draft task; all or nothing."""
    try:
        lead = _names(form, "lead") or None
        cooperating = _names(form, "cooperating") if any(form.getlist("cooperating")) else None
        deadline = _deadline(form)
        if lead is None and cooperating is None and deadline is None:
            raise FormInvalid(
                "请填写要批量设置的牵头单位、配合单位或完成时限",
                "Enter a lead, cooperating units or a deadline to apply",
                field="lead",
            )
        remark = _remark(form)
        outcomes = bulk_edit(
            session,
            plan_id,
            [
                TaskEdit(task_id, lead, cooperating, deadline, version, remark)
                for task_id, version in _selected(form)
            ],
            actor_user_id=user.id,
            actor_label=user.label,
        )
    except DubanError as error:
        return _again(request, session, plan_id, error, form)
    changed = sum(1 for o in outcomes if o.changed)
    flash(request, f"批量修改完成：{changed} 项任务有变化", f"Bulk edit done: {changed} tasks changed")
    return redirect(f"/plans/{plan_id}")


def _field(form: FormData, name: str, limit: int) -> str:
    value = str(form.get(name) or "").strip()
    if len(value) > limit:
        raise FormInvalid(f"{name} 过长", f"{name} is too long", field=name)
    return value


def _new_department(form: FormData) -> NewDepartment | None:
    code, name = _field(form, "new_code", 64), _field(form, "new_name", 128)
    if not code and not name:
        return None
    kind = _field(form, "new_kind", 16) or DepartmentKind.other.value
    if kind not in {k.value for k in DepartmentKind}:
        raise FormInvalid("部门类别无效", "The department kind is not valid", field="new_kind")
    return NewDepartment(code=code, name=name, kind=DepartmentKind(kind))


@router.post("/plans/{plan_id}/units/resolve")
def resolve_one(
    request: Request, session: SessionDep, user: OfficeUser, form: Form, plan_id: PlanId
) -> Response:
    """Map a written unit to a registry department, or add it as a new department, for the plan's drafts."""
    try:
        name = _field(form, "name", 256)
        new = _new_department(form)
        department = None if new is not None else (_field(form, "department", 128) or None)
        if not name or (new is None and department is None):
            raise FormInvalid(
                "请选择要对应的部门，或填写新部门的代码和名称",
                "Choose a department, or give the new department's code and name",
                field="department",
            )
        outcome = resolve_unit(
            session,
            plan_id,
            name,
            department=department,
            new_department=new,
            actor_user_id=user.id,
            actor_label=user.label,
            via="page",
        )
    except DubanError as error:
        return _again(request, session, plan_id, error, form)
    flash(
        request,
        f"“{name}”已对应为“{outcome.department.name}”，{len(outcome.tasks)} 项任务已更新",
        f"{name} now stands for {outcome.department.name}; {len(outcome.tasks)} tasks updated",
    )
    return redirect(f"/plans/{plan_id}#units")


@router.post("/plans/{plan_id}/issue")
def issue(request: Request, session: SessionDep, user: OfficeUser, form: Form, plan_id: PlanId) -> Response:
    """交办: issue every draft task of the plan (refused, with the list, while any lacks a lead/deadline)."""
    try:
        plan_detail(session, plan_id)
        issued = issue_plan(
            session,
            plan_id,
            actor_of(user),
            getattr(request.state, "request_id", None),
            confirm_past_deadlines=form.get("confirm_past_deadlines") == "1",
            calendar=working_calendar(session),
        )
    except DubanError as error:
        return _again(request, session, plan_id, error, form)
    flash(request, f"已交办 {len(issued)} 项任务", f"{len(issued)} tasks issued")
    return redirect(f"/plans/{plan_id}")
