"""The eval commands: thresholds on every F1 and field, `--compare`, `gold check`.

Written for issue 14: `--min-f1` looking at goals only, `--compare` swapping fixed
and broken, and `gold check` without its quote check all passed the suite (the
only threshold test used 1.01, which no score can meet). The document and gold here
are written for the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.backends import CallStats, Identity, PreparedDoc, get_backend, register
from summarizer.evaluation.evaluate import compare
from summarizer.evaluation.gold import check_gold_dir
from summarizer.interfaces.cli import app
from summarizer.models import DocumentResult
from summarizer.pipeline import run_batch

runner = CliRunner()
DOC = "某区数字化行动方案\n到2026年，新增数字化车间20个。\n1.推进企业上云。（区经信局牵头，区财政局配合）\n2.建设算力中心。\n"
# The rules read the goal and both measures; they cannot know 区科技局 (in no note),
# and the gold disagrees with them on the comparator on purpose, so that exactly one
# F1 (responsibilities) and one field (comparator) are low.
GOLD = {
    "doc_id": "t01",
    "plan": {"title": "某区数字化行动方案", "issuers": [], "issued_date": None, "period_start": None,
             "period_end": 2026},
    "goals": [{"indicator": "数字化车间", "value": 20, "value_max": None, "unit": "个", "comparator": "exactly",
               "year": 2026, "quote": "新增数字化车间20个"}],
    "measures": [
        {"number": "1", "title": "推进企业上云", "section": None,
         "responsibilities": [{"unit": "区经信局", "role": "lead"}, {"unit": "区财政局", "role": "support"}]},
        {"number": "2", "title": "建设算力中心", "section": None,
         "responsibilities": [{"unit": "区科技局", "role": "responsible"}]},
    ],
}


@register("guard-empty")
class EmptyBackend:
    """Finds nothing: the 'before' side of a comparison."""

    def __init__(self, **_: object) -> None:
        self.identity = Identity("guard-empty")
        self.stats = CallStats()

    def extract(self, doc: PreparedDoc) -> DocumentResult:
        return DocumentResult(doc_id=doc.doc_id)


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path, Path]:
    docs, gold = tmp_path / "docs", tmp_path / "gold"
    docs.mkdir()
    gold.mkdir()
    (docs / "t01.txt").write_text(DOC, "utf-8")
    (gold / "t01.json").write_text(json.dumps(GOLD, ensure_ascii=False), "utf-8")
    db = tmp_path / "r.db"
    assert run_batch([docs], db, get_backend("rules")).ok
    return docs, gold, db


def evaluate_cli(db: Path, gold: Path, *options: str) -> tuple[int, str]:
    res = runner.invoke(app, ["eval", "--db", str(db), "--gold", str(gold), *options])
    return res.exit_code, res.output


def test_the_scores_of_this_case(corpus: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, gold, db = corpus
    code, _ = evaluate_cli(db, gold, "--json", str(tmp_path / "e.json"))
    o = json.loads((tmp_path / "e.json").read_text("utf-8"))["overall"]
    assert code == 0
    assert o["goals"]["f1"] == o["measures"]["f1"] == 1.0
    assert o["responsibilities"]["f1"] == o["responsibilities"]["lenient"]["f1"] == 0.8
    assert o["goals"]["field_accuracy"]["comparator"] == 0.0 and o["goals"]["field_accuracy"]["year"] == 1.0


@pytest.mark.parametrize("threshold,code", [("0.9", 1), ("0.8", 0), ("0.5", 0)])
def test_min_f1_applies_to_every_f1(corpus: tuple[Path, Path, Path], threshold: str, code: int) -> None:
    _, gold, db = corpus
    got, output = evaluate_cli(db, gold, "--min-f1", threshold)
    assert got == code
    if code:
        assert "responsibilities_f1" in output and "goals_f1" not in output


@pytest.mark.parametrize("threshold,code", [("0.5", 1), ("0.0", 0)])
def test_min_field_applies_to_field_accuracies(corpus: tuple[Path, Path, Path], threshold: str, code: int) -> None:
    _, gold, db = corpus
    got, output = evaluate_cli(db, gold, "--min-field", threshold)
    assert got == code
    if code:
        assert "comparator" in output and "year" not in output


def test_compare_lists_what_run_b_fixed_and_broke(corpus: tuple[Path, Path, Path], tmp_path: Path) -> None:
    docs, gold, db = corpus
    before = run_batch([docs], db, get_backend("guard-empty")).run_id
    after = run_batch([docs], db, get_backend("rules"), force=True).run_id
    diff = compare(db, gold, before, after)
    assert diff["f1_delta"]["goals"] == 1.0 and diff["a"]["goals"] == 0.0 and diff["b"]["goals"] == 1.0
    assert {"t01|missed|goal|新增数字化车间20个||", "t01|missed|measure|推进企业上云||",
            "t01|missed|responsibility|区经信局|1 推进企业上云|"} <= set(diff["fixed"])
    # the comparator: only a goal that was found can have a wrong field
    assert diff["broken"] == ["t01|wrong_field|goal|新增数字化车间20个||comparator"]
    back = compare(db, gold, after, before)
    assert back["fixed"] == diff["broken"] and back["broken"] == diff["fixed"]
    res = runner.invoke(app, ["eval", "--db", str(db), "--gold", str(gold), "--compare", before, after])
    assert res.exit_code == 0
    fixed_part, broken_part = res.output.split("broken (")
    assert "+ t01|missed|goal|新增数字化车间20个" in fixed_part and "missed|goal" not in broken_part


def test_gold_check_checks_quotes_titles_and_sections(corpus: tuple[Path, Path, Path], tmp_path: Path) -> None:
    docs, gold, _ = corpus
    assert check_gold_dir(gold, docs) == ([], 1)
    bad = json.loads(json.dumps(GOLD))
    bad["goals"][0]["quote"] = "新增数字化车间30个"
    bad["measures"][1]["title"] = "建设超算中心"
    bad["measures"][0]["section"] = "一、总体要求"
    (gold / "t01.json").write_text(json.dumps(bad, ensure_ascii=False), "utf-8")
    problems, count = check_gold_dir(gold, docs)
    assert count == 1 and len(problems) == 3
    assert any("goals.0.quote" in p for p in problems)
    assert any("measures.1.title" in p for p in problems) and any("measures.0.section" in p for p in problems)
    assert check_gold_dir(gold, None) == ([], 1)  # without documents only the format is checked
    res = runner.invoke(app, ["gold", "check", str(gold), "--docs", str(docs)])
    assert res.exit_code == 1 and "3 problems" in res.output
