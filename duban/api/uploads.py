"""What a route that reads its own body needs: a JSON body validated as FastAPI validates one (bad JSON is a
400 `malformed_json`, a bad field a 422 naming it), and the file name of an `X-Filename` header decoded."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from typing import Final, TypeVar
from urllib.parse import unquote

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

FILENAME_MAX: Final = 255
_EXT_VALUE: Final = re.compile(r"(?:filename\*\s*=\s*)?([A-Za-z0-9!#$&+^`{}~_.-]+)'[A-Za-z0-9-]*'(\S+)")
_QUOTED: Final = re.compile(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"')
_PERCENT: Final = re.compile(r"%[0-9A-Fa-f]{2}")


def json_body(model: type[Model], raw: bytes) -> Model:
    """`raw` read as `model`; a RequestValidationError (answered 400 `malformed_json` when it is not JSON
    at all, else 422 `validation_error` with the fields at fault) instead of pydantic's own message."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise RequestValidationError(
            [
                {
                    "type": item["type"],
                    "loc": ("body", *item["loc"]),
                    "msg": item["msg"],
                    "input": None,  # never echo the body (it may be megabytes of a document)
                }
                for item in error.errors(include_url=False)
            ]
        ) from None


def _ext_value(value: str) -> str | None:
    """An RFC 5987 / RFC 8187 ext-value (`UTF-8''%E6%96%B9%E6%A1%88.txt`), decoded; None if it is not one."""
    found = _EXT_VALUE.search(value)
    if found is None:
        return None
    charset, encoded = found.group(1), found.group(2).rstrip(";")
    try:
        return unquote(encoded, encoding=charset, errors="strict")
    except (LookupError, UnicodeDecodeError):
        return None


def _raw_utf8(value: str) -> str:
    """A header sent as raw UTF-8 bytes (read as Latin-1 by the server) turned back into its text."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def filename_header(value: str | None) -> str | None:
    """The file name an `X-Filename` header carries, however the client wrote it: RFC 5987
    (`UTF-8''%E6%96%B9%E6%A1%88.txt`, also inside `filename*=`), percent-encoded UTF-8, a quoted
    `filename="…"`, or raw UTF-8 bytes; folders and control characters dropped, at most 255 characters."""
    if value is None:
        return None
    text = value.strip()
    decoded = _ext_value(text)
    if decoded is None:
        quoted = _QUOTED.search(text)
        if quoted is not None:
            text = quoted.group(1).replace('\\"', '"')
        text = _raw_utf8(text)
        if _PERCENT.search(text):
            with contextlib.suppress(UnicodeDecodeError):  # not UTF-8: kept as sent
                text = unquote(text, encoding="utf-8", errors="strict")
        decoded = text
    name = decoded.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:FILENAME_MAX] or None
