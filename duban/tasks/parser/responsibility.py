"""Who a measure's own words make responsible: the responsibility grammar of Chinese government documents.

Read, in this order of trust:
- annotations, bracketed or standing as a sentence of their own: labels (`牵头单位：X；配合单位：Y`,
  `责任单位：…`, `支撑单位：`, `实施部门：` …) and role words after a list (`X牵头，Y、Z配合`, `X、Y负责`,
  `X牵头负责，Y组织落实`, `X指导`, `X参与`, `A（牵头）、B`);
- `由X牵头` in the running text, which picks the lead out of a `责任单位` list or stands alone.
Document-wide rules hold from where they are written until the document ends: the first-listed rule
(`排在第一位的部门为牵头部门，下同`, `列第一位者为牵头单位`) and a standing implementer
(`以下均需试点城市政府落实，不再列出`). Units are kept verbatim; resolving them to departments is
not done here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from duban.tasks.parser.body_actors import body_actors
from duban.tasks.parser.facts import (
    DocRules,
    Responsibility,
    ResponsibilitySource,
    UnitMention,
    UnitRole,
)
from duban.tasks.parser.grammar import (
    FIRST_IS_LEAD_RE,
    LABEL_RE,
    LABELS,
    OTHER_LABEL_RE,
    ROLE_OF_CORE,
    ROLE_WORD_RE,
    SAME_BELOW_RE,
    SENTENCE_SEPARATORS,
    STANDING_RE,
    TIME_PIECE_RE,
)
from duban.tasks.parser.textview import book_title_spans, bracket_spans, in_spans, search_view, split_top
from duban.tasks.parser.units import NameSpan, extends_class, joined, looks_like_named_body, read_names

# A bracket closing a label's list that states a rule, not a unit: "（…列第一位为牵头单位，下同）".
_TRAILING_RULE_RE = re.compile(r"[（(][^（）()]*(?:第一位|首位|下同)[^（）()]*[）)]$")


@dataclass(frozen=True, slots=True)
class _Group:
    """Names that share one role word or label inside an annotation."""

    role: str
    wording: str
    names: tuple[NameSpan, ...]


@dataclass(frozen=True, slots=True)
class Annotation:
    """A responsibility annotation found in a measure's text, and the groups it names."""

    start: int
    end: int
    groups: tuple[_Group, ...]
    first_is_lead: bool
    standing: tuple[str, ...]


def _trim(view: str, a: int, b: int) -> tuple[int, int]:
    while a < b and view[a] in " \t\u3000\n，,、":
        a += 1
    while b > a and view[b - 1] in " \t\u3000\n，,、":
        b -= 1
    return a, b


def _labelled(view: str, text: str, a: int, b: int) -> tuple[list[_Group], bool] | None:
    """ "牵头单位：A、B，支撑单位：C": groups by label, and whether a first-listed rule is stated among them;
    None when the clause is not labels."""
    labels = list(LABEL_RE.finditer(view, a, b))
    if not labels:
        return None
    before = view[a : labels[0].start()].strip(" \t\u3000（(【[，,")
    if before and not OTHER_LABEL_RE.match(before):
        return None
    groups: list[_Group] = []
    first_is_lead = False
    for index, label in enumerate(labels):
        stop = labels[index + 1].start() if index + 1 < len(labels) else b
        name = label.group("label") or label.group("boxed")
        role = LABELS[name]
        if role == "time":
            continue  # 完成时限：… is read by the time reader
        s, e = _trim(view, label.end(), stop)
        rule = _TRAILING_RULE_RE.search(view, s, e)
        if rule is not None:  # "责任单位:A、B、C(列第一位为牵头单位,下同)"
            first_is_lead = first_is_lead or FIRST_IS_LEAD_RE.search(rule.group(0)) is not None
            s, e = _trim(view, s, rule.start())
        if s == e:
            continue
        read = _role_groups(view, text, s, e)
        if read is not None and any(group.role != "bare" for group in read[0]):
            # "责任单位:A、B分别牵头": the role word in the list decides.
            groups.extend(read[0])
            first_is_lead = first_is_lead or read[1]
            continue
        names = read_names(view, text, s, e, lenient=True)
        if names is None:
            return None
        groups.append(_Group(role, name, tuple(names)))
    return groups, first_is_lead


def _add_names(pending: list[NameSpan], view: str, text: str, s: int, e: int) -> bool:
    """Names of view[s:e] added to `pending` (a level word extends the class before it); False if none."""
    s, e = _trim(view, s, e)
    if pending and extends_class(pending[-1], view[s:e]):
        pending[-1] = joined(pending[-1], text, e)
        return True
    names = read_names(view, text, s, e)
    if names is None:
        return False
    pending.extend(names)
    return True


def _role_groups(view: str, text: str, a: int, b: int) -> tuple[list[_Group], bool] | None:
    """ "A、B牵头，C、D配合" / "A负责，列第一位者为牵头单位": groups by role word; None when not one."""
    groups: list[_Group] = []
    pending: list[NameSpan] = []
    first_is_lead = False
    for s, e in split_top(view, a, b, "、，,"):
        s, e = _trim(view, s, e)
        if s == e:
            continue
        piece = view[s:e]
        if FIRST_IS_LEAD_RE.search(piece):
            first_is_lead = True
            continue
        if SAME_BELOW_RE.match(piece):
            continue
        word = ROLE_WORD_RE.search(view, s, e)
        if word is not None:
            core = word.group("core")
            role = "lead" if core.startswith("牵头") else ROLE_OF_CORE.get(core, "coop")
            if word.start() > s and not _add_names(pending, view, text, s, word.start()):
                return None
            if pending:
                groups.append(_Group(role, text[word.start() : e], tuple(pending)))
                pending = []
            elif core.startswith("按") or word.group(0).startswith("按"):
                continue  # "，按职责分工负责" with nothing named before it: no unit
            else:
                return None
            continue
        if TIME_PIECE_RE.search(piece) and not pending:
            continue  # "，2024年底前完成", "，年内持续推进": the time reader's
        if not _add_names(pending, view, text, s, e):
            return None
    if pending:
        if groups:
            return None  # names after the last role word: not an annotation we can read with confidence
        groups.append(_Group("bare", "", tuple(pending)))
    return groups, first_is_lead


def read_annotation(view: str, text: str, a: int, b: int) -> Annotation | None:
    """The groups of an annotation's content view[a:b]; None unless all of it is responsibility grammar."""
    groups: list[_Group] = []
    first_is_lead = False
    standing: list[str] = []
    for s, e in split_top(view, a, b, "；;。\n"):
        s, e = _trim(view, s, e)
        if s == e:
            continue
        rule = STANDING_RE.search(view, s, e)
        if rule is not None and rule.start() == s:
            names = read_names(view, text, rule.start("names"), rule.end("names"))
            standing.extend(n.name for n in names or ())
            continue
        labelled = _labelled(view, text, s, e)
        if labelled is not None:
            groups.extend(labelled[0])
            first_is_lead = first_is_lead or labelled[1]
            continue
        if OTHER_LABEL_RE.match(view, s):
            continue
        read = _role_groups(view, text, s, e)
        if read is None:
            return None
        found, first = read
        groups.extend(found)
        first_is_lead = first_is_lead or first
    if not groups and not standing:
        return None
    return Annotation(a, b, tuple(groups), first_is_lead, tuple(standing))


def find_annotations(text: str) -> list[Annotation]:
    """Every responsibility annotation of a measure's text: bracketed ones, and sentences that are one."""
    view = search_view(text)
    books = book_title_spans(view)
    found: list[Annotation] = []
    taken: list[tuple[int, int]] = []
    for start, end in bracket_spans(view):
        if in_spans(start, books) or end - start <= 3:
            continue
        annotation = read_annotation(view, text, start + 1, end - 1)
        if annotation is None or (_bare(annotation) and not _stands_alone(view, start, end)):
            continue
        found.append(annotation)
        taken.append((start, end))
    sentence_start = 0
    for index in range(len(view) + 1):
        if index < len(view) and view[index] not in SENTENCE_SEPARATORS:
            continue
        s, e = _trim(view, sentence_start, index)
        sentence_start = index + 1
        if e - s < 3 or any(a <= s < b for a, b in taken) or view[s] in "（(" or in_spans(s, books):
            continue
        if LABEL_RE.match(view, s) is None and ROLE_WORD_RE.search(view, s, e) is None:
            continue
        annotation = read_annotation(view, text, s, e)
        if annotation is not None and not _bare(annotation) and _all_bodies(annotation):
            found.append(annotation)
    found.sort(key=lambda annotation: annotation.start)
    return found


def _all_bodies(annotation: Annotation) -> bool:
    """Unbracketed, a sentence is an annotation only when it names bodies ("强化社会监督" is a heading)."""
    names = [name for group in annotation.groups if group.wording not in LABELS for name in group.names]
    return all(name.generic or looks_like_named_body(name.name) for name in names)


def _bare(annotation: Annotation) -> bool:
    return any(group.role == "bare" for group in annotation.groups)


def _stands_alone(view: str, start: int, end: int) -> bool:
    """Whether a bracket stands after a finished sentence and ends it: "…工作机制。（各有关单位）"."""
    before = view[max(0, start - 3) : start].rstrip(" \t\u3000")
    rest = view[end : end + 3].lstrip(" \t\u3000")
    return (not before or before[-1] in "。；;\n") and (not rest or rest[0] in "。；;\n")


def doc_rule_updates(text: str, rules: DocRules) -> DocRules:
    """The document rules after a stretch of text that may state one (they hold from there on)."""
    view = search_view(text)
    first = rules.first_listed_is_lead or FIRST_IS_LEAD_RE.search(view) is not None
    standing = rules.standing_units
    standing_text = rules.standing_text
    for found in STANDING_RE.finditer(view):
        names = read_names(view, text, found.start("names"), found.end("names"))
        if names:
            standing = tuple(dict.fromkeys([*standing, *(n.name for n in names)]))
            standing_text = text[found.start() : found.end()]
    return DocRules(first_listed_is_lead=first, standing_units=standing, standing_text=standing_text)


def extract_responsibility(text: str, rules: DocRules) -> Responsibility:
    """Who the measure's text makes lead, cooperating, guiding or implementing, each unit as written."""
    view = search_view(text)
    annotations = find_annotations(text)
    stated_here = any(a.first_is_lead for a in annotations)
    first_is_lead = rules.first_listed_is_lead or stated_here
    units: list[UnitMention] = []
    by_convention = False
    lead_elsewhere = any(map(_names_a_lead, annotations))
    for annotation in annotations:
        read, used = _annotation_units(annotation, first_is_lead, lead_elsewhere)
        units.extend(read)
        by_convention = by_convention or used
    source: ResponsibilitySource | None = None
    if units:
        source = "convention" if by_convention and not stated_here else "explicit"
    by = body_actors(view, text, book_title_spans(view))
    if by:
        named = {u.name for u in units}
        leads = {n.name for n in by if n.role == "lead"}
        if units and leads and leads <= named:
            # "由市科委牵头" inside a 责任单位 list: the named one leads, the others cooperate.
            units = [
                replace(u, role="lead" if u.name in leads else "cooperating")
                if u.role in ("lead", "cooperating")
                else u
                for u in units
            ]
        elif not units:
            units = list({(u.name, u.role): u for u in by}.values())
            source = "body"
    units = list({(u.name, u.role): u for u in units}.values())
    for name in rules.standing_units:
        if not any(u.name == name for u in units):
            units.append(
                UnitMention(name, "implementer", "convention", None, None, rules.standing_text or "")
            )
    return _responsibility(units, source, annotations, text, rules)


def _names_a_lead(annotation: Annotation) -> bool:
    return any(g.role == "lead" or any(n.lead_mark for n in g.names) for g in annotation.groups)


def _annotation_units(
    annotation: Annotation, first_is_lead: bool, lead_elsewhere: bool
) -> tuple[list[UnitMention], bool]:
    """The units of one annotation with their roles, and whether the first-listed rule decided the lead.

    `lead_elsewhere`: another annotation of the measure names the lead ("牵头单位：X" on one line,
    "责任单位：Y" on the next), so this one's responsible units cooperate.
    """
    groups = annotation.groups
    has_lead = _names_a_lead(annotation) or lead_elsewhere
    has_guide = any(g.role == "guide" for g in groups)
    if (
        not has_lead
        and any(g.role == "responsible" for g in groups)
        and any(g.role == "carry" for g in groups)
    ):
        # "A、B按职责分工负责落实，各区政府组织落实": who answers for it leads, who carries it out cooperates.
        groups = tuple(replace(g, role="lead") if g.role == "responsible" else g for g in groups)
        has_lead = True
    units: list[UnitMention] = []
    first_given = used = False
    for group in groups:
        for index, name in enumerate(group.names):
            role: UnitRole
            if name.lead_mark or group.role == "lead":
                role = "lead"
            elif group.role == "coop":
                role = "cooperating"
            elif group.role == "guide":
                role = "guidance"
            elif has_lead:
                role = "cooperating"
            elif has_guide and "落实" in group.wording:
                role = (
                    "implementer"  # "生态环境部指导，试点城市政府负责落实": who carries out what others guide
                )
            elif first_is_lead and group.role in ("responsible", "carry", "bare"):
                role = "lead" if not first_given and index == 0 else "cooperating"
                first_given = True
                used = True
            else:
                role = "lead"
            units.append(UnitMention(name.name, role, "written", name.start, name.end, group.wording))
    for standing in annotation.standing:
        units.append(UnitMention(standing, "implementer", "written", None, None, "不再列出"))
    return units, used


def _responsibility(
    units: list[UnitMention],
    source: ResponsibilitySource | None,
    annotations: list[Annotation],
    text: str,
    rules: DocRules,
) -> Responsibility:
    def names(role: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(u.name for u in units if u.role == role))

    lead = names("lead")
    cooperating = tuple(n for n in names("cooperating") if n not in lead)
    guidance = tuple(n for n in names("guidance") if n not in lead)
    evidence = [text[a.start - 1 : a.end + 1] if a.start > 0 else text[a.start : a.end] for a in annotations]
    if rules.standing_units and rules.standing_text:
        evidence.append(rules.standing_text)
    return Responsibility(
        lead=lead,
        cooperating=cooperating,
        guidance=guidance,
        source=source if (lead or cooperating or guidance) else None,
        evidence=tuple(evidence),
        units=tuple(units),
    )
