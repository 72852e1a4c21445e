"""Named eval metrics and the floors they must not fall below.

A report's overall block nests its numbers (`goals.f1`, `goals.field_accuracy.year`,
`responsibilities.lenient.f1`); the floors file, the `--min-f1`/`--min-field` options
and the floors test all need the same flat names, so they are defined once here.
A floor is a regression guard, not a target: it sits a little below what the rules
score today and is raised as the rules improve (`eval/floors.json`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Every F1 the report states: `--min-f1` applies to all of them.
F1_METRICS = ("goals_f1", "measures_f1", "responsibilities_f1", "responsibilities_lenient_f1")
# Every per-field accuracy on matched items: `--min-field` applies to all of them.
FIELD_METRICS = ("comparator", "year", "unit", "indicator", "value_max", "section", "role")
METRICS = (*F1_METRICS, *FIELD_METRICS, "plan")


def metrics(overall: dict[str, Any]) -> dict[str, float | None]:
    """Flat metric name -> value from a report's `overall` block (None: nothing to score)."""
    goals, resp = overall["goals"], overall["responsibilities"]
    out: dict[str, float | None] = {
        "goals_f1": goals["f1"],
        "measures_f1": overall["measures"]["f1"],
        "responsibilities_f1": resp["f1"],
        "responsibilities_lenient_f1": resp["lenient"]["f1"],
        "section": overall["measures"]["section_accuracy"],
        "role": resp.get("role_accuracy"),
        "plan": overall["plan"]["accuracy"],
    }
    for name, value in goals["field_accuracy"].items():
        out[name] = value
    return out


def below(values: dict[str, float | None], floors: dict[str, float]) -> list[str]:
    """One line per metric under its floor. A metric with nothing to score (None) is
    not under a floor: an empty gold set has no comparator accuracy to lose."""
    low = []
    for name, floor in floors.items():
        value = values.get(name)
        if value is not None and value < floor:
            low.append(f"{name} {value:.4f} < floor {floor:.4f}")
    return low


def load_floors(path: Path) -> dict[str, dict[str, float]]:
    """Gold set name -> metric -> floor; keys starting with `_` are comments."""
    data = json.loads(path.read_text("utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}
