"""Loading and checking gold files (the format in `../shared/gold-format.md`)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from summarizer.errors import GoldError
from summarizer.ingest.load import read_document
from summarizer.ingest.textnorm import norm
from summarizer.models import GoldFile


def load_gold(path: Path) -> GoldFile:
    """Load one gold file; GoldError names the file and the field on a bad one."""
    try:
        data = json.loads(path.read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise GoldError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        gold = GoldFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "(file)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise GoldError(f"{path}: {where}: {err['msg']}{more}") from None
    if gold.doc_id != path.stem:
        raise GoldError(f"{path}: doc_id {gold.doc_id!r} does not match the file name")
    return gold


def load_gold_dir(folder: Path) -> dict[str, GoldFile]:
    if not folder.is_dir():
        raise GoldError(f"{folder}: not a folder of gold files")
    return {p.stem: load_gold(p) for p in sorted(folder.glob("*.json"))}


def _find_source(docs: Path, doc_id: str) -> Path | None:
    hits = sorted(p for p in docs.rglob(f"{doc_id}.*") if p.is_file())
    return hits[0] if hits else None


def check_gold_dir(folder: Path, docs: Path | None = None) -> tuple[list[str], int]:
    """Validate every gold file; with docs, check quotes and titles against the text."""
    from summarizer.pipeline import prepare

    if not folder.is_dir():
        raise GoldError(f"{folder}: not a folder of gold files")
    if docs is not None and not docs.is_dir():
        raise GoldError(f"{docs}: not a folder of documents")
    problems: list[str] = []
    count = 0
    for path in sorted(folder.glob("*.json")):
        count += 1
        try:
            gold = load_gold(path)
        except GoldError as exc:
            problems.append(str(exc))
            continue
        if docs is None:
            continue
        src = _find_source(docs, gold.doc_id)
        if src is None:
            problems.append(f"{path}: no source document {gold.doc_id}.* under {docs}")
            continue
        text, _ = prepare(gold.doc_id, read_document(src).text)
        hay = norm(text)
        for i, g in enumerate(gold.goals):
            if norm(g.quote) not in hay:
                problems.append(f"{path}: goals.{i}.quote not in the cleaned document: {g.quote!r}")
        for i, m in enumerate(gold.measures):
            for key in ("title", "section"):
                value = getattr(m, key)
                if value is not None and norm(value) not in hay:
                    problems.append(f"{path}: measures.{i}.{key} not in the cleaned document: {value!r}")
    return problems, count
