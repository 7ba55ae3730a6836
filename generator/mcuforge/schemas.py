"""JSON Schemas exported from the pydantic models (``mcuforge schema``)."""

from __future__ import annotations

import json

from pydantic import BaseModel

from .catalog import Recipe, Target
from .spec import Spec


def _schema(model: type[BaseModel], title: str) -> str:
    schema = model.model_json_schema(by_alias=True)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
              **{k: v for k, v in schema.items() if k not in ("$schema", "title")}}
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def schema_files() -> dict[str, str]:
    """File name → JSON text for every schema in ``schema/``."""
    return {
        "spec.schema.json": _schema(Spec, "mcuforge spec"),
        "recipe.schema.json": _schema(Recipe, "mcuforge recipe"),
        "target.schema.json": _schema(Target, "mcuforge target"),
    }
