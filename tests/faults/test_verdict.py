"""The fault suite's judge: lost rows, repeats a kill explains, repeats it does not; and its report."""

from __future__ import annotations

from email.message import Message

from faults.core import Outcome
from faults.report import render, summary
from faults.world import verdict


def _mail(message_id: str) -> Message:
    message = Message()
    message["Message-ID"] = message_id
    return message


def test_every_row_once_is_clean() -> None:
    rows = {1: ("sent", "<a>"), 2: ("sent", "<b>")}
    result = verdict(rows, [_mail("<a>"), _mail("<b>")])
    assert result.ok and not result.lost and not result.repeats
    assert (result.rows, result.received, result.distinct) == (2, 2, 2)


def test_a_row_without_its_mail_is_lost() -> None:
    rows = {1: ("sent", "<a>"), 2: ("pending", None), 3: ("sent", "<c>")}
    result = verdict(rows, [_mail("<a>")])
    assert result.lost == [2, 3]
    assert not result.ok


def test_a_repeat_is_allowed_once_per_kill_that_caught_the_row_in_flight() -> None:
    rows = {1: ("sent", "<a>"), 2: ("sent", "<b>")}
    mails = [_mail("<a>"), _mail("<a>"), _mail("<a>"), _mail("<b>"), _mail("<b>")]
    explained = verdict(rows, mails, [{1}, {1, 2}])
    assert explained.repeats == {1: 2, 2: 1} and explained.ok
    once = verdict(rows, mails, [{1}])
    assert once.unexplained == {1: 1, 2: 1} and not once.ok


def test_the_report_names_each_fault_its_figures_and_its_failures() -> None:
    passed = Outcome("kill", "worker SIGKILLed", "killed it five times")
    passed.figure("lost", 0)
    passed.figure("seconds", 12.345)
    failed = Outcome("smtp", "SMTP down", "stopped the server")
    failed.check(False, "3 notices lost")
    crashed = Outcome("fuzz", "schemathesis", "ran st", error="RuntimeError: boom")
    text = render([passed, failed, crashed], 100.0, "15.2", 60.0)
    assert text.startswith("# Fault suite")
    assert "| kill: worker SIGKILLed | passed | 0 | lost 0; seconds 12.3 |" in text
    assert "- 3 notices lost" in text and "`RuntimeError: boom`" in text
    assert "1 of 3 faults passed" in text and "SMTP outage: 60 s" in text
    assert "FAILED" in summary([failed], 1.0) and "✗ 3 notices lost" in summary([failed], 1.0)
