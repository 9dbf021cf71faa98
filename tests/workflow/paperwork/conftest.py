"""Fixtures of the paperwork tests: a scheduler scenario with 督办单 issued by real sweeps, and readers of
the generated files (python-docx, pdfplumber) that leave a PNG of each PDF's first page for a person."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pytest
from docx import Document
from sqlmodel import Session, select

from duban.tasks.models import Department
from tests.notifications.scenario import Scenario, open_scenario

ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "paperwork"


@dataclass
class Supervised:
    """Tasks of the scenario: `red` (red 督办单), `blue` (blue), `quiet` (on time, none), `region` (a 盟市's,
    orange), all with original deadlines in October 2025."""

    scene: Scenario
    red: int
    blue: int
    quiet: int
    region: int
    region_id: int


@pytest.fixture
def supervised(session: Session) -> Iterator[Supervised]:
    """Four tasks, swept on 2025-10-28 (red 15 working days late, blue 3–5, orange for the 盟市)."""
    for scene in open_scenario(session):
        baotou = session.exec(select(Department.id).where(Department.code == "baotou")).one()
        assert baotou is not None
        scene.ids["region"] = baotou
        red = scene.task(dt.date(2025, 9, 30), issued="2025-09-01T09:00", title="推进燃煤锅炉整治")
        blue = scene.task(dt.date(2025, 10, 22), issued="2025-09-01T09:00", title="加强扬尘管控")
        quiet = scene.task(dt.date(2025, 10, 20), issued="2025-09-01T09:00", title="建立重污染天气应急预案")
        region = scene.task(
            dt.date(2025, 10, 17),
            issued="2025-09-01T09:00",
            leads=("region",),
            cooperating=(),
            title="开展工业园区综合整治",
        )
        scene.act(quiet, "submit", "lead", "2025-10-15T10:00")
        scene.act(quiet, "approve", "office", "2025-10-16T10:00")
        scene.sweep("2025-10-28T09:00")
        yield Supervised(scene, red, blue, quiet, region, baotou)


def docx_text(data: bytes) -> str:
    """Every paragraph and table cell of a .docx, one per line."""
    doc = Document(io.BytesIO(data))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def pdf_text(data: bytes, png: str | None = None) -> str:
    """The text of every page (pdfplumber); with `png`, page 1 rendered to var/test-artifacts/paperwork/."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        if png:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            pdf.pages[0].to_image(resolution=110).save(str(ARTIFACTS / png))
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def flat(text: str) -> str:
    """Text without the line breaks and spaces a layout puts in."""
    return "".join(text.split())


@pytest.fixture
def world_plan(departments: Session) -> tuple[Session, int]:
    """The fixtures' two-measure plan, imported (draft tasks, led by 生态环境厅)."""
    from duban.tasks.parser import parse
    from duban.tasks.plans import import_plan
    from tests.fixtures.tasks import PLAN_TEXT

    result = import_plan(departments, PLAN_TEXT, parse(PLAN_TEXT), None)
    departments.flush()
    return departments, result.plan_id
