"""The web API's OpenAPI document, generated from the pydantic models the handlers validate with.

Each route is declared once as an ``Operation`` beside its handler: the same
models check requests at run time and describe them here, so the two cannot
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

REF = "#/components/schemas/{model}"


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    responses: dict[int, str]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    #: Models of successful responses, by status.
    returns: dict[int, type[BaseModel]] = field(default_factory=dict)
    secured: bool = True


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _parameters(model: type[BaseModel], where: str) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [{"name": name, "in": where, "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def openapi(operations: list[Operation], title: str = "claw") -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        entry: dict[str, Any] = {"summary": op.summary, "responses": {}}
        params = [{"name": seg[1:-1].split(":")[0], "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 0}}
                  for seg in op.path.split("/") if seg.startswith("{")]
        if op.query is not None:
            params += _parameters(op.query, "query")
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": _schema(op.body, components)}}}
        for status, description in op.responses.items():
            response: dict[str, Any] = {"description": description}
            if status in op.returns:
                response["content"] = {"application/json": {"schema": _schema(op.returns[status], components)}}
            entry["responses"][str(status)] = response
        if op.secured:
            entry["security"] = [{"bearer": []}]
        paths.setdefault(op.path.replace(":int}", "}"), {})[op.method.lower()] = entry
    return {"openapi": "3.1.0", "info": {"title": title, "version": "1"}, "paths": paths,
            "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}
