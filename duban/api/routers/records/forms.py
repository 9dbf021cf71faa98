"""A record's body as JSON, or as a multipart form with the same fields and its 佐证材料 as `file` parts."""

from __future__ import annotations

import json
from typing import Any, BinaryIO, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel

from duban.api.problems import problem_response
from duban.api.routers.records.files import form_uploads
from duban.api.uploads import json_body

Model = TypeVar("Model", bound=BaseModel)
# Fields a form carries as JSON text (lists of objects have no plain form encoding).
JSON_FIELDS = frozenset({"indicator_values", "missing_contributions", "attachments"})


def record_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a record route: the JSON model, or the same fields as a form."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    form_properties: dict[str, Any] = {
        name: (
            {"type": "string", "description": "JSON"}
            if name in JSON_FIELDS
            else {"type": "array", "items": {"type": "integer", "minimum": 1}}
            if name == "file_ids"
            else spec
        )
        for name, spec in schema.get("properties", {}).items()
    }
    form_properties["file"] = {"type": "array", "items": {"type": "string", "format": "binary"}}
    definitions = schema.get("$defs", {})
    json_schema = {key: value for key, value in schema.items() if key != "$defs"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _inline(json_schema, definitions)},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": schema.get("required", []),
                        "properties": form_properties,
                    }
                },
            },
        }
    }


def _inline(schema: Any, definitions: dict[str, Any]) -> Any:
    """`schema` with its local `$ref`s replaced by the definitions (the route's own body, self-contained)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _inline(definitions[ref.rsplit("/", 1)[-1]], definitions)
        return {key: _inline(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inline(item, definitions) for item in schema]
    return schema


async def read_record(
    request: Request, model: type[Model]
) -> tuple[Model, list[tuple[str, BinaryIO]]] | Response:
    """The body as `model` and the uploaded files (none for JSON); a 415 problem for another media type."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        fields, uploads = await form_uploads(request)
        form = await request.form()
        data: dict[str, Any] = {}
        for name, value in fields.items():
            if name in JSON_FIELDS:
                data[name] = _json_field(value)
            elif name == "file_ids":
                data[name] = [v for v in form.getlist(name) if isinstance(v, str) and v.strip()]
            elif value != "" or name in ("text", "reason"):
                data[name] = value
        return json_body(model, json.dumps(data, ensure_ascii=False).encode()), uploads
    if content_type.startswith("application/json") or not content_type:
        return json_body(model, await request.body()), []
    return problem_response(
        415,
        "请以 JSON 或 multipart 表单提交 / Send JSON or a multipart form",
        "unsupported_media_type",
    )


def _json_field(value: str) -> Any:
    try:
        return json.loads(value) if value.strip() else []
    except json.JSONDecodeError:
        return value  # the model's validation names the field
