"""The office's banner when reminders are not running: read from the heartbeats /healthz judges by."""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel import Session

from duban.core import clock
from duban.notifications.heartbeat import RuntimeStatus, runtime_status

log = logging.getLogger("duban.pages")


def _local(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(clock.TZ).strftime("%Y-%m-%d %H:%M:%S")


def banner_text(status: RuntimeStatus) -> tuple[str, str]:
    """What the banner says (Chinese, English) about a scheduler that is not running."""
    worker, sweep = status.worker, status.sweep
    if worker.get("status") == "missing":
        beat_zh, beat_en = "从未收到后台任务的心跳", "no worker heartbeat has ever come in"
    elif worker.get("status") == "ok":
        beat_zh, beat_en = "后台任务心跳正常", "the worker beats"
    else:
        age = float(worker.get("age_seconds") or 0)
        beat_zh, beat_en = f"后台任务已 {age:.0f} 秒没有心跳", f"no worker heartbeat for {age:.0f} s"
    if sweep.get("last_completed"):
        when = _local(str(sweep["last_completed"]))
        sweep_zh, sweep_en = f"最近一次巡检完成于 {when}", f"the last sweep completed at {when}"
    else:
        sweep_zh, sweep_en = "尚无完成的巡检", "no sweep has completed yet"
    return (
        f"提醒服务未在运行：{beat_zh}，{sweep_zh}。提醒、催办和督办通知暂停发送，恢复后补发。",
        f"Reminders are not running: {beat_en}; {sweep_en}. Reminders, urgings and supervision notices "
        "are on hold and go out once the service is back.",
    )


def reminders_stopped(session: Session | None) -> tuple[str, str] | None:
    """The banner's text when reminders should run here and do not; None when they run (or none are
    expected on this host, the page has no session, or the heartbeats cannot be read — /healthz says)."""
    if session is None:
        return None
    try:
        with session.begin_nested():
            status = runtime_status(session)
    except Exception:
        log.warning("the reminders banner could not read the heartbeats", exc_info=True)
        return None
    return None if status.healthy else banner_text(status)
