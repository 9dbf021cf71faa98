"""Truth files: the golden reading of the seeds and the corpus format (`*.truth.json` beside documents)."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_NOT_WORD = re.compile(r"[^\w]|_")
_DOCUMENT_SUFFIXES = (".txt", ".docx", ".pdf", ".xlsx")


def fold(text: str) -> str:
    """Compatibility-folded text without spaces or punctuation: what matching and comparing look at."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text))


def name_key(name: str) -> str:
    """A unit's name compared as written (width and spaces folded, script kept)."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", name))


@dataclass(frozen=True, slots=True)
class TruthMeasure:
    """One measure of the truth: what locates it in the text, and the reading it should get."""

    label: str
    anchors: tuple[str, ...]
    lead: tuple[str, ...] | None  # None: the truth records no responsibility reading (the seeds)
    cooperating: tuple[str, ...] | None
    deadline: str | None


@dataclass(frozen=True, slots=True)
class TruthDocument:
    """A document file and its truth."""

    name: str
    path: Path
    collection: str
    measures: tuple[TruthMeasure, ...]


def _anchors(measure: dict[str, Any]) -> tuple[str, ...]:
    anchors = []
    for key in ("first_chars", "title", "annotation"):
        value = measure.get(key)
        if isinstance(value, str) and len(fold(value)) >= 4:
            anchors.append(fold(value))
    return tuple(anchors)


def _label(measure: dict[str, Any]) -> str:
    if measure.get("path"):
        return "/".join(measure["path"])
    parts = [str(measure.get(key) or "") for key in ("section", "number")]
    if measure.get("segment"):
        parts.append(f"#{measure['segment']}")
    return " ".join(part for part in parts if part)


def _corpus_measure(measure: dict[str, Any]) -> TruthMeasure:
    return TruthMeasure(
        label=_label(measure),
        anchors=_anchors(measure),
        lead=tuple(measure.get("lead") or ()),
        cooperating=tuple(measure.get("cooperating") or ()),
        deadline=measure.get("deadline"),
    )


def _golden_measure(measure: dict[str, Any]) -> TruthMeasure:
    return TruthMeasure(
        label=_label(measure),
        anchors=_anchors(measure),
        lead=None,
        cooperating=None,
        deadline=measure.get("deadline_text"),
    )


def _document_file(folder: Path, truth_file: Path, data: dict[str, Any]) -> Path | None:
    named = data.get("file")
    if isinstance(named, str) and (folder / named).is_file():
        return folder / named
    stem = truth_file.name.removesuffix(".truth.json")
    for suffix in _DOCUMENT_SUFFIXES:
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    return None


def load_folder(folder: Path, collection: str) -> list[TruthDocument]:
    """Every document of a folder that has a truth file beside it, in name order."""
    documents = []
    for truth_file in sorted(folder.glob("*.truth.json")):
        data = json.loads(truth_file.read_text(encoding="utf-8"))
        document = _document_file(folder, truth_file, data)
        if document is None:
            raise FileNotFoundError(f"no document beside {truth_file}")
        measures = tuple(_corpus_measure(measure) for measure in data["measures"])
        documents.append(
            TruthDocument(truth_file.name.removesuffix(".truth.json"), document, collection, measures)
        )
    return documents


def load_seeds(seeds: Path, golden: Path) -> list[TruthDocument]:
    """The five seed plans with their golden reading (measures and deadlines; no lead is recorded there)."""
    documents = []
    for truth_file in sorted(golden.glob("*.truth.json")):
        data = json.loads(truth_file.read_text(encoding="utf-8"))
        stem = truth_file.name.removesuffix(".truth.json")
        measures = tuple(_golden_measure(measure) for measure in data["measures"])
        documents.append(TruthDocument(stem, seeds / f"{stem}.txt", "seeds", measures))
    return documents
