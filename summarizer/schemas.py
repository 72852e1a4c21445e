"""JSON Schema files derived from the models (`schemas/` in the repository)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from summarizer.models import DocumentResult, GoldFile

SCHEMAS: dict[str, type[BaseModel]] = {"result.schema.json": DocumentResult,
                                       "gold.schema.json": GoldFile}


def schema_text(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, model in SCHEMAS.items():
        path = folder / name
        path.write_text(schema_text(model), "utf-8")
        paths.append(path)
    return paths
