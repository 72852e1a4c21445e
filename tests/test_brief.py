"""Brief pages: content, hostile text escaped, CLI and export, Datasette links, eval block, Chromium."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from browser import CHROMEDRIVER, CHROMIUM, headless_chrome
from typer.testing import CliRunner

from summarizer.backends import get_backend
from summarizer.evaluation.evaluate import evaluate
from summarizer.interfaces.brief import brief_filename, brief_html, brief_markdown, index_html, index_row, load_brief
from summarizer.interfaces.cli import app
from summarizer.pipeline import run_batch
from summarizer.store import db as store
from summarizer.store.export import export_results

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
D001 = "001_edc70f5a27395571"

# Made-up hostile document: markup and script in the title, a goal, a unit name and the file name.
HOSTILE = (
    "某市关于印发<script>alert('t')</script>行动方案的通知\n"
    "某市人民政府\n2024年5月6日\n"
    "一、工作目标\n到2026年，<img src=x onerror=alert(1)>企业达到30家以上。\n"
    "二、重点任务\n（一）开展服务</td><b>加粗</b>。由市<i>经信</i>局牵头，每年组织服务。\n"
)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    (d / "docs").mkdir()
    (d / "docs" / "<b>x<i>.txt").write_text(HOSTILE, "utf-8")
    run_batch([d / "docs"], d / "r.db", get_backend("rules"))
    return d / "r.db"


def copy_db(src: Path, dest: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    return dest


def test_brief_shows_what_the_page_promises(rules_db: Path) -> None:
    db = store.open_db(rules_db, create=False)
    b = load_brief(db, D001)
    html = brief_html(b)
    result = b.result
    assert b.abstract == result.plan.summary and b.abstract_source == "template"
    assert f">{result.plan.title}</h1>" in html and "绍兴市越城区人民政府" in html
    assert html.count('class="quote"') == len(result.goals)
    # Every quote link points at a highlighted span of the text at the bottom.
    ids = set(re.findall(r' id="([gms]\d+)"', html))
    links = set(re.findall(r'href="#([gms]\d+)"', html))
    assert links and links <= ids and {f"g{i}" for i in range(len(result.goals))} <= links | {
        a for a in (f"g{i}" for i in range(len(result.goals))) if a not in b.anchors}
    span = re.search(r'<span class="goal" id="g0"[^>]*>([^<]*)</span>', html)
    assert span and result.goals[0].quote.startswith(span.group(1))
    # Provenance: where it came from and how it was made.
    doc = db.table("documents").get(D001)
    assert doc["sha256"] in html and doc["path"] in html and b.provenance["run id"] in html
    assert "<script" not in html  # the brief itself runs nothing
    units = {u["unit"]: u["count"] for u in b.units}
    assert units and sum(units.values()) == sum(len(m.responsibilities) for m in result.measures)
    years = [y for y, _ in b.goals_by_year]
    assert years == sorted(years, key=lambda y: (y == "no year", y))


def test_hostile_text_is_escaped_in_html_and_markdown(hostile_db: Path) -> None:
    db = store.open_db(hostile_db, create=False)
    doc_id = "<b>x<i>"
    b = load_brief(db, doc_id)
    html = brief_html(b)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>加粗</b>" not in html and "</td><b>" not in html and "<b>x<i>" not in html
    assert "&lt;b&gt;x&lt;i&gt;" in html
    md = brief_markdown(b)
    assert "<script>" not in md and "<img" not in md and "&lt;script&gt;" in md
    index = index_html([index_row(b, brief_filename(doc_id))])
    assert "<b>x<i>" not in index and "<script>alert" not in index
    assert brief_filename(doc_id).startswith("doc-") and brief_filename(D001) == f"{D001}.html"
    assert brief_filename("../etc/passwd").startswith("doc-")


def test_export_briefs_writes_one_page_per_document_and_an_index(rules_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "briefs"
    written = export_results(rules_db, "briefs", out)
    docs = store.latest_results(store.open_db(rules_db, create=False))
    assert written[0] == out / "index.html" and len(written) == len(docs) + 1
    index = (out / "index.html").read_text("utf-8")
    for doc_id in docs:
        assert (out / f"{doc_id}.html").is_file() and f'href="{doc_id}.html"' in index
    (tmp_path / "f").write_text("x")
    from summarizer.errors import SummarizerError

    with pytest.raises(SummarizerError, match="is a file"):
        export_results(rules_db, "briefs", tmp_path / "f")


def test_cli_brief(rules_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["brief", D001, "--db", str(rules_db), "--html", str(tmp_path / "b.html"),
                            "--markdown", str(tmp_path / "b.md")])
    assert r.exit_code == 0, r.output
    assert "<h1" in (tmp_path / "b.html").read_text("utf-8") and "## 摘要" in (tmp_path / "b.md").read_text("utf-8")
    r = runner.invoke(app, ["brief", "nope", "--db", str(rules_db)])
    assert r.exit_code == 2 and "no result for document 'nope'" in r.output


def test_old_results_get_a_template_abstract_marked_not_stored(rules_db: Path, tmp_path: Path) -> None:
    path = copy_db(rules_db, tmp_path / "old.db")
    db = store.open_db(path)
    db.execute("update plans set summary = null, summary_source = null")
    db.conn.commit()
    b = load_brief(db, D001)
    assert b.abstract and b.abstract_source.startswith("template (not stored")


def test_eval_reports_the_abstracts(rules_db: Path, tmp_path: Path) -> None:
    path = copy_db(rules_db, tmp_path / "e.db")
    db = store.open_db(path)
    # One abstract made to state a figure the document does not: eval re-checks and counts it.
    db.execute("update plans set summary = '到2026年新增企业987654家。共20项措施。', summary_source = 'model', "
               "summary_asks = 2 where doc_id = ?", [D001])
    db.conn.commit()
    a = evaluate(path, ROOT / "eval" / "gold", save=False).report["abstracts"]
    assert a["checked"] == a["documents"] == 5
    assert a["passed"] == 4 and a["model"] == 1 and a["reasked"] == 1 and a["fallback"] == 0
    one = a["per_document"][D001]
    assert not one["passed"] and "987654 (number)" in one["problems"][0]
    assert 0 <= a["gold_value_share"] <= 1 and a["gold_goals"] > 0


def test_datasette_document_rows_link_to_the_brief(rules_db: Path, tmp_path: Path) -> None:
    pytest.importorskip("datasette")
    from summarizer.interfaces import browse

    path = copy_db(rules_db, tmp_path / "results.db")
    ds = browse.build(path)

    async def pages() -> tuple[str, int, str, int]:
        docs = await ds.client.get("/results/latest_documents")
        page = await ds.client.get(f"/-/brief/results/{D001}")
        missing = await ds.client.get("/-/brief/results/nope")
        return docs.text, page.status_code, page.text, missing.status_code

    docs, status, page, missing = asyncio.run(pages())
    assert f'href="/-/brief/results/{D001}"' in docs
    assert status == 200 and "<h1" in page and "摘要" in page and missing == 404


# ---- real headless Chromium -------------------------------------------------------



@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="chromium and chromium-driver are not installed")
def test_browser_opens_the_index_sorts_it_and_follows_a_quote(rules_db: Path, tmp_path: Path) -> None:
    pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By

    out = tmp_path / "briefs"
    export_results(rules_db, "briefs", out)
    driver = headless_chrome(tmp_path / "profile", "1300,1000")
    try:
        driver.get((out / "index.html").as_uri())
        heads = driver.find_elements(By.CSS_SELECTOR, "#briefs th")
        measures = next(h for h in heads if h.text.startswith("措施"))
        measures.click()
        measures.click()  # descending
        counts = [int(r.find_elements(By.TAG_NAME, "td")[5].text)
                  for r in driver.find_elements(By.CSS_SELECTOR, "#briefs tbody tr")]
        assert len(counts) == 5 and counts == sorted(counts, reverse=True)
        ARTIFACTS.mkdir(exist_ok=True)
        assert driver.save_screenshot(str(ARTIFACTS / "briefs_index_sorted.png"))

        driver.find_element(By.CSS_SELECTOR, f'a[href="{D001}.html"]').click()
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith("关于越城区")
        assert driver.find_element(By.ID, "abstract").text
        shot = ARTIFACTS / "brief_page.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

        link = driver.find_element(By.CSS_SELECTOR, "td.quote a")
        target = link.get_attribute("href").split("#")[1]
        link.click()
        assert driver.current_url.endswith(f"#{target}")
        span = driver.find_element(By.ID, target)
        assert span.text and link.text.startswith(span.text)  # the quote, or its part not under an earlier mark
        colour = driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", span)
        assert colour not in ("rgba(0, 0, 0, 0)", "transparent")  # highlighted (:target)
        assert driver.save_screenshot(str(ARTIFACTS / "brief_quote_highlighted.png"))
    finally:
        driver.quit()
