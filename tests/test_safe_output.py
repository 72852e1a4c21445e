"""Outputs that carry text we did not write: CSV formulas, HTML in Markdown, escapes in file names."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarizer.evaluation.report import markdown_report
from summarizer.interfaces.cli import app
from summarizer.interfaces.console import SafeStream
from summarizer.safe_output import csv_cell, markdown_text, terminal_text

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
SUMMARIZER = str(Path(sys.executable).with_name("summarizer"))
HOSTILE = (
    "某市关于印发行动方案的通知\n一、重点任务\n"
    '（一）=HYPERLINK("http://evil.example","点此")。到2025年产值达到500亿元。（责任单位：市经信局）\n'
    "（二）+cmd|calc。建设10个智能工厂。（@市科技局牵头，-市财政局配合）\n"
)


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("加快数字产业化", "加快数字产业化"), ("a=b", "a=b"), ("", ""), (-5.0, -5.0), (3, 3), (None, None),
])
def test_csv_cell_owasp_rule(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


def test_csv_export_neutralizes_formulas(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text(HOSTILE, "utf-8")
    db = str(tmp_path / "r.db")
    assert runner.invoke(app, ["run", str(doc), "--db", db, "--backend", "rules"]).exit_code == 0
    out = tmp_path / "csv"
    assert runner.invoke(app, ["export", "--db", db, "--format", "csv", "--out", str(out)]).exit_code == 0
    cells = []
    for name in ("plans", "goals", "measures", "responsibilities"):
        with (out / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
            cells += [c for row in csv.reader(f) for c in row]
    assert "'=HYPERLINK(\"http" in cells and "'+cmd|calc" in cells
    assert "'@市科技局" in cells and "'-市财政局" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_markdown_report_escapes_document_html() -> None:
    block = {k: {"precision": 1, "recall": 1, "f1": 1, "lenient": {"f1": 1}, "field_accuracy": {},
                 "section_accuracy": None} for k in ("goals", "measures", "responsibilities")}
    block.update(plan={"accuracy": None}, grounding={"share": None})
    bad = {**block, "errors": [{"kind": "missed", "type": "goal", "start": 3,
                                "quote": "<script>alert(1)</script>到2025年"}]}
    md = markdown_report({"documents": {"<img src=x onerror=alert(1)>": bad}, "overall": block,
                          "run_id": "r<b>"})
    assert "<script>" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;到2025年" in md
    assert markdown_text("a & <b>") == "a &amp; &lt;b&gt;"


@pytest.mark.parametrize("raw, shown", [
    ("plan\x1b[31mred\x1b[0m.txt", "planred.txt"),
    ("t\x1b]0;pwned\x07itle", "title"),  # OSC: set the window title
    ("c\x1b]52;c;ZXZpbA==\x1b\\lip", "clip"),  # OSC 52: write the clipboard
    ("up\x1b[2A\x1b[2Kline", "upline"),
    ("bell\x07 back\x08 nul\x00 del\x7f c1\x9b31m", "bell back nul del c1"),
    ("中文\n\tkept", "中文\n\tkept"),
])
def test_terminal_text_strips_control_sequences(raw: str, shown: str) -> None:
    assert terminal_text(raw) == shown


def test_safe_stream_keeps_our_colours_and_drops_foreign_escapes() -> None:
    buf = io.StringIO()
    SafeStream(buf).write("\x1b[31mFAIL\x1b[0m evil\x1b]0;x\x07name\x1b[?25l")
    assert buf.getvalue() == "\x1b[31mFAIL\x1b[0m evilname\x1b[?25l"
    with pytest.raises(TypeError):
        SafeStream(buf).write(b"")  # type: ignore[arg-type]


def test_gbk_console_and_escape_codes_in_file_names_do_not_end_a_run(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plan🚀.txt").write_text(HOSTILE, "utf-8")
    (docs / "evil\x1b]0;pwned\x07\x1b[2J.txt").write_text("", "utf-8")  # fails: its name is printed
    env = {**os.environ, "PYTHONIOENCODING": "gbk"}
    proc = subprocess.run([SUMMARIZER, "run", str(docs), "--db", str(tmp_path / "r.db"), "--backend", "rules"],
                          capture_output=True, env=env, timeout=120, cwd=ROOT, check=False)
    out = proc.stdout.decode("gbk") + proc.stderr.decode("gbk")
    assert proc.returncode == 1, out  # the empty file failed; the run itself completed
    assert "Traceback" not in out and "UnicodeEncodeError" not in out
    assert "plan?: 2 goals, 2 measures" in out
    assert "\x1b" not in out and "\x07" not in out
    assert "evil]0;pwned[2J.txt: empty file" not in out and "evil.txt: empty file" in out


# ---- small CLI promises --------------------------------------------------------------------


def test_gold_check_of_a_missing_folder_fails(tmp_path: Path) -> None:
    res = runner.invoke(app, ["gold", "check", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "not a folder of gold files" in res.output
    res = runner.invoke(app, ["gold", "check", str(ROOT / "eval" / "gold"), "--docs", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "not a folder of documents" in res.output


def test_model_info_with_a_missing_model_fails(tmp_path: Path) -> None:
    res = runner.invoke(app, ["model", "info", "--model-path", str(tmp_path / "none.gguf")])
    assert res.exit_code == 1 and "problem" in res.output


def test_browse_port_is_checked_and_port_zero_is_resolved() -> None:
    from summarizer.errors import ConfigError
    from summarizer.interfaces.browse import usable_port

    for bad in (99999, -1):
        with pytest.raises(ConfigError, match=r"a port is 1-65535"):
            usable_port("127.0.0.1", bad)
    assert 0 < usable_port("127.0.0.1", 0) < 65536
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{busy}"):
            usable_port("127.0.0.1", busy)


def test_browse_bad_port_is_one_line(rules_db: Path) -> None:
    pytest.importorskip("uvicorn")
    res = runner.invoke(app, ["browse", "--db", str(rules_db), "--port", "99999"])
    assert res.exit_code == 2 and res.output.strip().count("\n") == 0 and "a port is 1-65535" in res.output
