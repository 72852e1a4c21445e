"""Browsing with Datasette: the real server on a loopback port, and real headless Chromium.

The server runs as `python -m summarizer.interfaces.browse DB --port N` (which calls `serve`) on a
copy of the sample corpus run through the rules backend, with a small fake eval
stored so the eval canned query exists.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMEDRIVER, CHROMIUM, headless_chrome

from summarizer.errors import ConfigError, InputError
from summarizer.interfaces import browse
from summarizer.store import db as store

pytest.importorskip("datasette")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
D004 = "004_0aee5bff1bd801be"


def copy_db(src: Path, dest: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    return dest


def add_fake_eval(path: Path) -> None:
    """Two evals in the shape summarizer.evaluation.evaluate stores; the newer has one miss."""
    db = store.open_db(path)
    db["eval_runs"].insert_all([
        {"id": "old", "run_id": "latest", "gold_dir": "eval/gold", "created_at": "2026-01-01T00:00:00+00:00",
         "goals_f1": 0.1, "measures_f1": 0.1, "responsibilities_f1": 0.1, "plan_accuracy": 0.1, "report": "{}"},
        {"id": "new", "run_id": "latest", "gold_dir": "eval/gold", "created_at": "2026-02-01T00:00:00+00:00",
         "goals_f1": 0.5, "measures_f1": 0.5, "responsibilities_f1": 0.5, "plan_accuracy": 0.5, "report": "{}"},
    ], pk="id")
    db["eval_items"].insert_all([
        {"eval_id": "old", "doc_id": D004, "kind": "missed", "type": "goal", "quote": "旧的遗漏",
         "start": None, "end": None, "detail": "{}"},
        {"eval_id": "new", "doc_id": D004, "kind": "missed", "type": "goal", "quote": "新的遗漏",
         "start": 1, "end": 5, "detail": "{}"},
        {"eval_id": "new", "doc_id": D004, "kind": "spurious", "type": "goal", "quote": "多余",
         "start": 1, "end": 3, "detail": "{}"},
    ])
    db.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode("utf-8")


def get_json(url: str) -> object:
    return json.loads(get(url)[1])


@pytest.fixture(scope="module")
def served(rules_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the database served by a real Datasette process."""
    db_path = copy_db(rules_db, tmp_path_factory.mktemp("browse") / "results.db")
    add_fake_eval(db_path)
    port = free_port()
    log = (db_path.parent / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "summarizer.interfaces.browse", str(db_path), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get(f"{base}/-/versions.json")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((db_path.parent / "server.log").read_text()) from None
                time.sleep(0.1)
        yield f"{base}/results"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture()
def prepared(rules_db: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return browse.prepare(copy_db(rules_db, tmp_path / "results.db"))


# ---- without a server --------------------------------------------------------------


def test_views_are_idempotent_and_cover_latest_results(prepared) -> None:  # type: ignore[no-untyped-def]
    browse.ensure_views(prepared)
    browse.ensure_views(prepared)
    assert set(browse.VIEWS) <= set(prepared.view_names())
    assert prepared["latest_goals"].count == prepared["goals"].count
    assert prepared["latest_responsibilities"].count == prepared["responsibilities"].count
    units = {r["unit"] for r in prepared.query("select unit from latest_responsibilities where doc_id = ?", [D004])}
    assert "市科技局" in units and "科技局" not in units


def test_every_table_view_and_column_is_described(prepared) -> None:  # type: ignore[no-untyped-def]
    add_fake_eval(Path(prepared.conn.execute("pragma database_list").fetchone()[2]))
    meta = browse.metadata_for(prepared, "results")["databases"]["results"]
    for name in prepared.table_names() + prepared.view_names():
        if "_fts" in name:
            assert meta["tables"][name]["hidden"]
            continue
        tmeta = meta["tables"][name]
        assert tmeta.get("title") and tmeta.get("description"), name
        cols = [c.name for c in prepared[name].columns]
        missing = [c for c in cols if not tmeta["columns"].get(c)]
        assert not missing, f"{name}: {missing}"
    assert "latest_eval_misses" in meta["queries"]


def test_eval_query_only_when_eval_tables_exist(prepared) -> None:  # type: ignore[no-untyped-def]
    meta = browse.metadata_for(prepared, "results")["databases"]["results"]
    assert "eval_items" not in prepared.table_names()
    assert set(meta["queries"]) == {"goals_due_by", "unit_measures", "measures_without_units", "goal_problems"}


def test_canned_queries_run_in_sqlite(prepared) -> None:  # type: ignore[no-untyped-def]
    for name, q in browse.QUERIES.items():
        rows = list(prepared.query(q["sql"], {"year": 2025, "unit": "市经贸委"}))
        assert name == "goal_problems" or rows, name


def test_without_datasette_browse_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "datasette", None)
    monkeypatch.setitem(sys.modules, "datasette.app", None)
    with pytest.raises(ConfigError, match=r"pip install 'policy-summarizer\[browse\]'"):
        browse.build(tmp_path / "results.db")
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ConfigError, match="datasette is not installed"):
        browse.serve(tmp_path / "results.db", free_port())


def test_missing_database_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such results database"):
        browse.build(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


# ---- the real server ---------------------------------------------------------------


def test_html_pages(served: str) -> None:
    status, html = get(served)
    assert status == 200
    for name in ("latest_goals", "latest_measures", "latest_responsibilities", "units", "goals_due_by",
                 "unit_measures", "measures_without_units", "goal_problems", "latest_eval_misses"):
        assert f'href="/results/{name}"' in html
    status, html = get(f"{served}/latest_goals")
    assert status == 200 and "<h1>Goals" in html and 'name="_search"' in html
    assert "What is measured, as the text names it" in html  # column description


def test_json_table_rows_and_facets(served: str) -> None:
    data = get_json(f"{served}/latest_responsibilities.json?_shape=objects&_size=max&doc_id={D004}")
    rows = data["rows"]  # type: ignore[index]
    assert {r["unit"] for r in rows if r["raw_unit"] == "科技局"} == {"市科技局"}
    facets = data["facet_results"]  # type: ignore[index]
    assert {"unit", "role", "level", "document"} <= set(facets)
    role_counts = {f["value"]: f["count"] for f in facets["role"]["results"]}
    assert role_counts["lead"] > 0 and sum(role_counts.values()) == len(rows)
    goals = get_json(f"{served}/latest_goals.json?_shape=objects")
    years = {f["value"] for f in goals["facet_results"]["year"]["results"]}  # type: ignore[index]
    assert 2025 in years
    issuers = goals["facet_results"]["issuers"]["results"]  # type: ignore[index]
    assert any(f["value"] == "嘉兴市人民政府" for f in issuers)


def test_search_on_goals(served: str) -> None:
    # The trigram index finds any run of three or more characters inside a clause.
    q = urllib.parse.quote("总产值")
    rows = get_json(f"{served}/latest_goals.json?_shape=array&_search={q}")
    assert rows and all("总产值" in r["indicator"] + r["quote"] for r in rows)  # type: ignore[union-attr, index]
    q = urllib.parse.quote("产业园")
    rows = get_json(f"{served}/latest_measures.json?_shape=array&_search={q}")
    assert rows and all("产业园" in r["title"] + (r["section"] or "") + r["quote"] for r in rows)  # type: ignore[union-attr, index]


def test_canned_queries(served: str) -> None:
    rows = get_json(f"{served}/goals_due_by.json?_shape=array&year=2025")
    assert rows and all(r["year"] <= 2025 for r in rows)  # type: ignore[union-attr, index]
    unit = urllib.parse.quote("市经贸委")
    rows = get_json(f"{served}/unit_measures.json?_shape=array&unit={unit}")
    assert {r["raw_unit"] for r in rows} == {"市经贸委", "经贸委"}  # type: ignore[union-attr, index]
    assert {r["unit"] for r in rows} == {"市经贸委"}  # type: ignore[union-attr, index]
    rows = get_json(f"{served}/measures_without_units.json?_shape=array")
    docs = get_json(f"{served}/latest_documents.json?_shape=array")
    expected = {d["doc_id"] for d in docs if d["measures_without_unit"]}  # type: ignore[union-attr, index]
    assert rows and {r["doc_id"] for r in rows} == expected  # type: ignore[union-attr, index]
    assert all(0 < r["measures_without_unit"] <= r["measures"] for r in rows)  # type: ignore[union-attr, index]
    rows = get_json(f"{served}/latest_eval_misses.json?_shape=array")
    assert [r["quote"] for r in rows] == ["新的遗漏"]  # type: ignore[union-attr, index]
    assert get(f"{served}/goal_problems.json?_shape=array")[0] == 200


# ---- real headless Chromium -------------------------------------------------------



@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="chromium and chromium-driver are not installed")
def test_browser_facet_and_canned_query(served: str, tmp_path: Path) -> None:
    pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = headless_chrome(tmp_path / "profile", "1400,1000")
    wait = WebDriverWait(driver, 15)
    try:
        # The goals table, then its comparator facet.
        driver.get(f"{served}/latest_goals")
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Goals")
        link = wait.until(ec.element_to_be_clickable(
            (By.CSS_SELECTOR, '.facet-info[data-column="comparator"] li a')))
        value = link.get_attribute("href").split("comparator=")[1].split("&")[0]
        link.click()
        wait.until(ec.url_contains(f"comparator={value}"))
        cells = driver.find_elements(By.CSS_SELECTOR, "td.col-comparator")
        assert cells and {c.text for c in cells} == {value}
        ARTIFACTS.mkdir(exist_ok=True)
        # Column descriptions come first on the page; show the facets and the rows.
        driver.execute_script("document.querySelector('.facet-results').scrollIntoView()")
        driver.save_screenshot(str(ARTIFACTS / "browse_goals_facet.png"))

        # A canned query through its form.
        driver.get(f"{served}/goals_due_by")
        box = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, 'input[name="year"]')))
        box.clear()
        box.send_keys("2025")
        box.submit()
        wait.until(ec.url_contains("year=2025"))
        years = [int(c.text) for c in driver.find_elements(By.CSS_SELECTOR, "td.col-year")]
        assert years and max(years) <= 2025
        shot = ARTIFACTS / "browse_goals_due_by_2025.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()
