"""`make eval`: parse every document with truth, score it, write docs/parser-quality.md, check the floor."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.score import DocumentScore, score_document
from evaluation.truth import TruthDocument, load_folder, load_seeds

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FLOOR_FILE = Path(__file__).resolve().parent / "floor.json"
REPORT_FILE = ROOT / "docs" / "parser-quality.md"


def documents() -> list[TruthDocument]:
    """The seeds with their golden reading, the shared corpus (read in place) and the project's own corpus."""
    found = []
    if (SHARED / "golden" / "seeds").is_dir():
        found += load_seeds(SHARED / "seeds", SHARED / "golden" / "seeds")
    if (SHARED / "corpus").is_dir():
        found += load_folder(SHARED / "corpus", "shared")
    found += load_folder(ROOT / "tests" / "corpus", "project")
    return found


def parse_document(path: Path) -> tuple[dict[str, Any] | None, str, str | None]:
    """The JSON `duban plans parse --format json` prints for a file, the text it read, or the error."""
    from duban.tasks.parser import ParseError, decode_bytes, parse, to_json_dict
    from duban.tasks.registry import default_registry
    from duban.tasks.rules import apply_rules_to_json, bundled_rules

    data = path.read_bytes()
    try:
        text = decode_bytes(data, path.name)
        plan = parse(text)
    except ParseError as error:
        return None, "", f"{error.code}: {error.message_en}"
    return apply_rules_to_json(to_json_dict(plan), default_registry(), bundled_rules(), text), text, None


def score_all(selected: list[TruthDocument]) -> list[DocumentScore]:
    """Every document parsed and scored."""
    scores = []
    for document in selected:
        parsed, text, error = parse_document(document.path)
        scores.append(score_document(document, parsed, text, error))
    return scores


@dataclass(frozen=True, slots=True)
class Totals:
    """Figures of a group of documents: micro-averaged over its measures."""

    documents: int
    truth: int
    parsed: int
    matched: int
    recall: float
    precision: float
    lead_exact: float | None
    coop_f1: float | None
    deadline_exact: float
    deadlines_invented: int
    units_not_in_text: int
    proposals: int

    def figures(self) -> dict[str, float]:
        """The figures a floor holds (higher is better; the counts are negated)."""
        figures = {
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "deadline_exact": round(self.deadline_exact, 4),
            "deadlines_invented": -self.deadlines_invented,
            "units_not_in_text": -self.units_not_in_text,
        }
        if self.lead_exact is not None:
            figures["lead_exact"] = round(self.lead_exact, 4)
        if self.coop_f1 is not None:
            figures["coop_f1"] = round(self.coop_f1, 4)
        return figures


def totals(scores: list[DocumentScore]) -> Totals:
    """Micro-averaged figures of a group of documents."""
    truth = sum(s.truth for s in scores)
    parsed = sum(s.parsed for s in scores)
    matched = sum(s.matched for s in scores)
    judged = sum(s.lead_judged for s in scores)
    tp = sum(s.coop_tp for s in scores)
    wrong = sum(s.coop_fp + s.coop_fn for s in scores)
    return Totals(
        documents=len(scores),
        truth=truth,
        parsed=parsed,
        matched=matched,
        recall=matched / truth if truth else 1.0,
        precision=matched / parsed if parsed else 1.0,
        lead_exact=sum(s.lead_exact for s in scores) / judged if judged else None,
        coop_f1=(2 * tp / (2 * tp + wrong) if 2 * tp + wrong else 1.0) if judged else None,
        deadline_exact=sum(s.deadline_exact for s in scores) / matched if matched else 1.0,
        deadlines_invented=sum(s.deadline_invented for s in scores),
        units_not_in_text=sum(len(s.units_not_in_text) for s in scores),
        proposals=sum(s.proposals for s in scores),
    )


def groups(scores: list[DocumentScore]) -> dict[str, Totals]:
    """Totals per collection (seeds, shared, project) and for both corpora together."""
    result = {}
    for name in ("seeds", "shared", "project"):
        members = [s for s in scores if s.collection == name]
        if members:
            result[name] = totals(members)
    corpus = [s for s in scores if s.collection != "seeds"]
    if corpus:
        result["corpus"] = totals(corpus)
    return result


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def report(scores: list[DocumentScore], seconds: float) -> str:
    """docs/parser-quality.md."""
    lines = [
        "# Parser quality",
        "",
        "Written by `make eval` (`python -m evaluation.run`): every document with hand-written truth, parsed",
        "as `duban plans parse --format json` prints it, matched to the truth measure by measure (one",
        "to one, in reading order, by each measure's first characters, heading or annotation). Lead exact",
        "and cooperating F1 are over the measures found; a deadline is invented when the truth has none;",
        "units not in the text are output names (not rule proposals) that do not occur in the document.",
        "`make test` fails when a total falls below `evaluation/floor.json`.",
        "",
        f"Run: {len(scores)} documents in {seconds:.1f} s.",
        "",
        "## Totals",
        "",
        "| collection | docs | measures | found | recall | precision | lead exact | coop F1 |"
        " deadline exact | invented deadlines | units not in text | rule proposals |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, group in groups(scores).items():
        lines.append(
            f"| {name} | {group.documents} | {group.truth} | {group.matched} | {group.recall:.3f} |"
            f" {group.precision:.3f} | {_rate(group.lead_exact)} | {_rate(group.coop_f1)} |"
            f" {group.deadline_exact:.3f} | {group.deadlines_invented} | {group.units_not_in_text} |"
            f" {group.proposals} |"
        )
    lines += [
        "",
        "## Per document",
        "",
        "| document | collection | measures | parsed | found | recall | precision | lead exact | coop F1 |"
        " deadline exact | invented | not in text |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.name} | {s.collection} | {s.truth} | {s.parsed} | {s.matched} | {s.recall:.3f} |"
            f" {s.precision:.3f} | {_rate(s.lead_rate)} | {_rate(s.coop_f1)} | {s.deadline_rate:.3f} |"
            f" {s.deadline_invented} | {len(s.units_not_in_text)} |"
        )
    misses = [s for s in scores if s.misses or s.error or s.units_not_in_text]
    if misses:
        lines += ["", "## What is still read wrong", ""]
        for s in misses:
            lines.append(f"### {s.name}")
            lines.append("")
            if s.error:
                lines.append(f"- error: {s.error}")
            lines += [f"- {miss}" for miss in s.misses]
            lines += [f"- 原文中没有的单位 / unit not in the text: {name}" for name in s.units_not_in_text]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def below_floor(scores: list[DocumentScore], floor: dict[str, dict[str, float]]) -> list[str]:
    """Each figure that fell below the one recorded in the floor file."""
    found = groups(scores)
    failures = []
    for group, figures in floor.items():
        if group not in found:
            failures.append(f"{group}: no documents")
            continue
        now = found[group].figures()
        for figure, recorded in figures.items():
            if figure not in now or now[figure] < recorded - 1e-9:
                failures.append(f"{group}.{figure}: {now.get(figure)} < {recorded}")
    return failures


def main(argv: list[str] | None = None) -> int:
    """Score, print the totals, write the report; --record writes the floor, --check compares with it."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--record", action="store_true", help="write the present figures as the floor")
    options.add_argument("--no-report", action="store_true", help="do not rewrite docs/parser-quality.md")
    args = options.parse_args(argv)
    began = time.perf_counter()
    scores = score_all(documents())
    seconds = time.perf_counter() - began
    for name, group in groups(scores).items():
        print(f"{name}: {json.dumps(group.figures())} ({group.matched}/{group.truth} found)")
    if not args.no_report:
        REPORT_FILE.write_text(report(scores, seconds), encoding="utf-8")
    if args.record:
        floor = {name: group.figures() for name, group in groups(scores).items()}
        FLOOR_FILE.write_text(json.dumps(floor, indent=2) + "\n", encoding="utf-8")
        return 0
    if FLOOR_FILE.exists():
        failures = below_floor(scores, json.loads(FLOOR_FILE.read_text(encoding="utf-8")))
        for failure in failures:
            print(f"below the floor: {failure}", file=sys.stderr)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
