"""Policy-document parser: text in, typed outline of measures out (pure, no database)."""

from __future__ import annotations

from duban.tasks.parser.decode import decode_bytes
from duban.tasks.parser.document import parse, parse_bytes, require_measures
from duban.tasks.parser.jsonout import to_json_dict
from duban.tasks.parser.model import (
    Exclusion,
    NodeKind,
    OutlineNode,
    ParsedMeasure,
    ParsedPlan,
    ParseError,
    ParseWarning,
    SourcedTarget,
)

__all__ = [
    "Exclusion",
    "NodeKind",
    "OutlineNode",
    "ParseError",
    "ParseWarning",
    "ParsedMeasure",
    "ParsedPlan",
    "SourcedTarget",
    "decode_bytes",
    "parse",
    "parse_bytes",
    "require_measures",
    "to_json_dict",
]
