"""The ablation report: per metric, per form category, fixed and broken."""

from __future__ import annotations

from conftest import DOCS, GOLD
from typer.testing import CliRunner

from summarizer.backends import get_backend
from summarizer.evaluation.ablation import ablate, categories, markdown
from summarizer.interfaces.cli import app
from summarizer.pipeline import run_batch


def test_ablation_counts_what_a_run_broke_per_category(rules_db, tmp_path):
    """A run over one document only: every other document's items are broken (missed)."""
    partial = tmp_path / "partial.db"
    run_batch([next(DOCS.glob("001_*.txt"))], partial, get_backend("rules"))
    manifest = tmp_path / "MANIFEST.md"
    manifest.write_text("| id | file | categories |\n|---|---|---|\n"
                        "| 1 | 001_edc70f5a27395571.txt | [county] [unit-notes] |\n"
                        "| 3 | 003_28bac5d74b912b57.txt | [county] |\n", "utf-8")
    assert categories(manifest)["001_edc70f5a27395571"] == ["county", "unit-notes"]
    ab = ablate(GOLD, {"rules": (str(rules_db), None), "partial": (str(partial), None)}, manifest)
    changes = ab["changes"]["partial"]
    assert changes["broken"]["missed goal"] > 0 and sum(changes["broken"].values()) > sum(changes["fixed"].values())
    assert ab["categories"]["unit-notes"]["partial"] == ab["categories"]["unit-notes"]["rules"]
    assert ab["categories"]["county"]["partial"]["goals"] < ab["categories"]["county"]["rules"]["goals"]
    md = markdown(ab)
    assert "| goals f1 |" in md and "county (2)" in md and "broken" in md


def test_ablate_command(rules_db):
    out = CliRunner().invoke(app, ["ablate", f"rules={rules_db}", f"local={rules_db}", "--gold", str(GOLD)])
    assert out.exit_code == 0, out.output
    assert "| plan accuracy |" in out.output and "fixed 0, broken 0" in out.output
    assert CliRunner().invoke(app, ["ablate", f"rules={rules_db}"]).exit_code != 0
