"""The parser's entry points: text (or bytes) in, a ParsedPlan out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from duban.tasks.chinese import detect_script, to_simplified
from duban.tasks.parser.decode import decode_bytes
from duban.tasks.parser.facts import NO_RULES
from duban.tasks.parser.header import (
    find_doc_number,
    find_doc_year,
    find_horizon,
    find_issue_date,
    find_title,
)
from duban.tasks.parser.issuer import find_issuer
from duban.tasks.parser.model import (
    ParsedMeasure,
    ParsedPlan,
    ParseError,
    ParseWarning,
    SourcedTarget,
    join_title_body,
)
from duban.tasks.parser.normalize import Line, split_lines
from duban.tasks.parser.numbering import match_marker
from duban.tasks.parser.outline import OutlineBuilder
from duban.tasks.parser.paragraphs import (
    Noise,
    build_paragraphs,
    classify_noise,
    skip_table_of_contents,
    strip_inline_source,
)
from duban.tasks.parser.regions import extract_regions
from duban.tasks.parser.responsibility import doc_rule_updates, extract_responsibility
from duban.tasks.parser.sections import Finaliser, MeasureDraft, trim_closing
from duban.tasks.parser.segments import split_segments
from duban.tasks.parser.targets import extract_targets
from duban.tasks.parser.timex import extract_times, impossible_dates
from duban.tasks.registry import Registry, default_registry

_SIGNATURE_STOP = frozenset("。；;！!？?，,：:")
_DUTY_WORDS = re.compile(r"牵头|负责|配合|责任|时限|完成")


class _Cleaned:
    """Lines with noise blanked, and what the noise told: date lines and warnings."""

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines: list[Line] = []
        self.date_lines: list[Line] = []
        self.warnings: list[ParseWarning] = []
        trailer: int | None = None
        pages: list[int] = []
        for line in lines:
            if trailer is not None:
                self.lines.append(Line(line.number, "", ""))
                continue
            noise = classify_noise(line.key)
            if noise is Noise.trailer:
                trailer = line.number
                self.warnings.append(
                    ParseWarning(
                        "trailer_ignored", "抄送等文末信息已略过", "distribution list ignored", line.number
                    )
                )
            if noise is Noise.date:
                self.date_lines.append(line)
            if noise is Noise.page:
                pages.append(len(self.lines))
            if noise is None:
                self.lines.append(strip_inline_source(line))
            else:
                self.lines.append(Line(line.number, "", ""))
        self._drop_running_heads(pages)
        self._drop_signature()

    def _drop_running_heads(self, pages: list[int]) -> None:
        """Blank running headers and footers of a PDF export: a short line repeated beside page numbers."""
        if len(pages) < 2:
            return
        near: dict[str, list[int]] = {}
        for page in pages:
            for index in self._neighbours(page):
                key = self.lines[index].key
                if len(key) <= 40 and "\t" not in self.lines[index].text and match_marker(key, key) is None:
                    near.setdefault(key, []).append(index)
        for indices in near.values():
            if len(set(indices)) >= max(2, len(pages) // 2):
                for index in set(indices):
                    line = self.lines[index]
                    self.lines[index] = Line(line.number, "", "")

    def _neighbours(self, page: int) -> list[int]:
        """The two non-blank lines before and after a page-number line."""
        found: list[int] = []
        for step in (-1, 1):
            index, seen = page + step, 0
            while 0 <= index < len(self.lines) and seen < 2:
                if self.lines[index].text:
                    found.append(index)
                    seen += 1
                index += step
        return found

    def _drop_signature(self) -> None:
        """Blank the short unpunctuated lines at the very end (issuing body, signature)."""
        for index in range(len(self.lines) - 1, -1, -1):
            line = self.lines[index]
            if not line.text:
                continue
            if len(line.key) > 30 or any(ch in _SIGNATURE_STOP for ch in line.key):
                break
            if (
                match_marker(line.key, line.key) is not None
                or _DUTY_WORDS.search(line.key)
                or "\t" in line.text
            ):
                break  # a heading, a duty or a table row is text, not the signature
            self.lines[index] = Line(line.number, "", "")


def _script(text: str) -> str:
    """Script of the document, judged on its head, middle and foot (the whole text costs two conversions)."""
    if len(text) <= 60_000:
        return detect_script(text)
    middle = len(text) // 2
    return detect_script(text[:20_000] + text[middle - 10_000 : middle + 10_000] + text[-20_000:])


@dataclass(frozen=True, slots=True)
class _Piece:
    """A measure draft, or one annotated segment of it."""

    path: tuple[str, ...]
    title: str
    body: str
    line_start: int
    line_end: int
    heading: str


def _pieces(draft: MeasureDraft) -> list[_Piece]:
    """The draft itself, or its annotated segments (several annotations in one item are several tasks)."""
    segments = split_segments(draft.body)
    if segments is None:
        return [_Piece(draft.path, draft.title, draft.body, draft.line_start, draft.line_end, "")]
    pieces = []
    for index, segment in enumerate(segments, 1):
        first = draft.line_start + draft.body.count("\n", 0, segment.offset) + (1 if draft.title else 0)
        last = first + segment.body.count("\n")
        pieces.append(
            _Piece(
                (*draft.path, f"#{index}"),
                segment.title,
                segment.body,
                min(first, draft.line_end),
                min(last, draft.line_end),
                draft.title,
            )
        )
    return pieces


def _without_empty_annexes(
    measures: list[ParsedMeasure], annexes: set[str]
) -> tuple[list[ParsedMeasure], list[str]]:
    """Annex parts are kept when they assign tasks (a 任务分工表) or hold the plan itself (more measures than
    the body: a 印发通知 whose annex is the plan); other annexes (a contact list, a form) are left out."""
    if not annexes:
        return measures, []
    in_body = [m for m in measures if m.path[0] not in annexes]
    dropped = []
    for label in sorted(annexes):
        annexed = [m for m in measures if m.path[0] == label]
        if in_body and not any(m.responsibility.units for m in annexed) and len(annexed) <= len(in_body):
            dropped.append(label)
    return [m for m in measures if m.path[0] not in dropped], dropped


def parse(text: str, *, registry: Registry | None = None) -> ParsedPlan:
    """Read a policy document; raises ParseError (only) when the text is empty or not text at all."""
    lines = split_lines(text, to_simplified)
    cleaned = _Cleaned(lines)
    paragraphs, joins = build_paragraphs(cleaned.lines)
    builder = OutlineBuilder(frozenset(line.number for line in cleaned.date_lines))
    for paragraph in skip_table_of_contents(paragraphs):
        if not builder.feed(paragraph):
            break
    warnings = list(cleaned.warnings)
    if builder.drop_cover_letter():
        warnings.append(
            ParseWarning(
                "cover_letter",
                "印发通知中的要求未作为措施",
                "the cover letter's points are not measures",
                None,
            )
        )
    if not builder.started:
        warnings.append(
            ParseWarning("no_outline", "未识别到分级编号的措施", "no numbered outline found", None)
        )
    trim_closing(builder.root)
    outline, drafts, goals = Finaliser().run(builder.root)

    body_start = builder.root.children[0].line_start if builder.started else len(lines) + 1
    header = [line for line in lines if line.number < body_start]
    preamble_text = "\n".join(paragraph.text for paragraph in builder.preamble)
    preamble_key = "\n".join(paragraph.key for paragraph in builder.preamble)
    title = find_title(header, preamble_text, preamble_key)
    title_key = to_simplified(title.text) if title.text else None
    issue_date = find_issue_date(cleaned.date_lines, header)
    horizon = find_horizon(title.text, title_key, [to_simplified(part.text) for part in goals])

    registry = registry or default_registry()
    rules = doc_rule_updates(preamble_text, NO_RULES)
    doc_year = find_doc_year(issue_date, header, title)
    measures = []
    for draft in drafts:
        for piece in _pieces(draft):
            measure_text = join_title_body(piece.title, piece.body)
            responsibility = extract_responsibility(measure_text, rules)
            if draft.context and not responsibility.units:
                responsibility = extract_responsibility(draft.context, rules)
            rules = doc_rule_updates(measure_text, rules)
            measures.append(
                ParsedMeasure(
                    path=piece.path,
                    kind=draft.kind,
                    title=piece.title,
                    body=piece.body,
                    line_start=piece.line_start,
                    line_end=piece.line_end,
                    time=extract_times(measure_text, issue_date, doc_year),
                    responsibility=responsibility,
                    regions=tuple(extract_regions(measure_text, registry)),
                    heading=piece.heading,
                )
            )
    warnings += [
        ParseWarning(
            "impossible_date",
            f"措施 {'/'.join(m.path)} 中的日期“{written}”不存在，未作为时限",
            f"measure {'/'.join(m.path)}: the date {written!r} does not exist; not read as a deadline",
            m.line_start,
        )
        for m in measures
        for written in impossible_dates(m.text, doc_year)
    ]
    measures, dropped = _without_empty_annexes(
        measures, {node.label for node in builder.root.children if node.annex}
    )
    warnings += [
        ParseWarning(
            "annex_ignored",
            f"附件“{label}”中没有分工任务，未作为措施",
            f"annex {label} holds no assigned task",
            None,
        )
        for label in dropped
    ]
    default_year = horizon.year if horizon else None
    targets = tuple(
        SourcedTarget(target, part.path)
        for part in goals
        for target in extract_targets(part.text, default_year)
    )
    issuer = find_issuer(header, lines)
    return ParsedPlan(
        title=title.text,
        title_inferred=title.inferred,
        script=_script(text),
        issue_date=issue_date,
        horizon=horizon,
        outline=outline,
        measures=tuple(measures),
        targets=targets,
        doc_rules=rules,
        warnings=tuple(warnings),
        line_count=len(lines),
        extra={"page_breaks_joined": joins.page_breaks, "repeated_chars_removed": joins.repeated_chars},
        doc_number=find_doc_number(header),
        issuer=issuer.name if issuer else None,
        issuer_source=issuer.source if issuer else None,
    )


def require_measures(plan: ParsedPlan) -> ParsedPlan:
    """The plan itself, or ParseError `no_measures` when not one measure was found (never an empty plan)."""
    if plan.measures:
        return plan
    raise ParseError(
        "文件中没有识别出任何措施：请确认这是一份规划、方案或任务分工表，正文按“一、（一）1.”等编号或以表格列出任务",
        "no measure was found in the document: check that it is a plan, a work plan or a task-division table "
        "whose tasks are numbered or listed in a table",
        code="no_measures",
    )


def parse_bytes(data: bytes, filename: str | None = None, *, registry: Registry | None = None) -> ParsedPlan:
    """Decode a file's bytes (UTF-8, UTF-16, GB18030/GBK, .docx) and parse it."""
    return parse(decode_bytes(data, filename), registry=registry)
