"""Canonical responsible units, checked on the names the sample corpus really contains.

Sample facts these tests rely on (rules backend): 001 (越城区 + 滨海新区, joint issuers)
names 区经信局 and 区经信局(金融办), 区自然资源和规划局 and 区自然资源和规划分局,
新区规建局 and 滨海新区规建局; 004 (no issuers found; units mostly 市-prefixed) names
市经贸委 and 经贸委, 市科技局 and 科技局, 各县(市、区), 相关县(市、区), 上虞市.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from summarizer.store import db as store
from summarizer.store import units
from summarizer.store.units import UnitName, document_level, resolve

ROOT = Path(__file__).resolve().parent.parent
D001, D004 = "001_edc70f5a27395571", "004_0aee5bff1bd801be"


def copy_db(src: Path, dest: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    return dest


@pytest.fixture()
def db(rules_db: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    conn = store.open_db(copy_db(rules_db, tmp_path / "results.db"))
    units.refresh_units(conn)
    return conn


def unit_rows(db) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {r["canonical"]: r for r in units.list_units(db)}


def raw_units(db, doc_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {r["unit"] for r in db.query("select unit from responsibilities where doc_id = ?", [doc_id])}


def test_the_sample_contains_the_names_these_tests_use(db) -> None:  # type: ignore[no-untyped-def]
    assert {"区经信局", "区经信局(金融办)", "区自然资源和规划局", "区自然资源和规划分局",
            "新区规建局", "滨海新区规建局", "新区经发局", "区发改局"} <= raw_units(db, D001)
    assert {"市经贸委", "经贸委", "市科技局", "科技局", "市发改委", "各县(市、区)",
            "相关县(市、区)", "上虞市", "市环保局", "环保局"} <= raw_units(db, D004)


def test_prefixless_unit_inherits_the_document_level_and_merges(db) -> None:  # type: ignore[no-untyped-def]
    rows = unit_rows(db)
    assert set(rows["市科技局"]["aliases"]) == {"市科技局", "科技局"}
    assert set(rows["市经贸委"]["aliases"]) == {"市经贸委", "经贸委"}
    assert set(rows["市环保局"]["aliases"]) == {"市环保局", "环保局"}
    assert rows["市科技局"]["level"] == "市"
    assert "科技局" not in rows and "经贸委" not in rows
    sources = {r["raw"]: r["level_source"] for r in db["unit_mentions"].rows_where("doc_id = ?", [D004])}
    assert sources["科技局"] == "document" and sources["市科技局"] == "name"


def test_parenthesised_suffix_is_an_alias_kept_as_a_note(db) -> None:  # type: ignore[no-untyped-def]
    rows = unit_rows(db)
    assert "区经信局(金融办)" in rows["区经信局"]["aliases"]
    assert rows["区经信局"]["notes"] == ["金融办"]
    assert "市行政服务中心" in rows and rows["市行政服务中心"]["notes"] == ["审改办"]
    assert not any("(金融办)" in name for name in rows)
    # Full-width brackets, as other documents write them, give the same unit.
    assert resolve("区经信局（金融办）", "区") == UnitName("区经信局", "区", "body", "金融办", "name")


def test_groups_stay_their_own_units(db) -> None:  # type: ignore[no-untyped-def]
    rows = unit_rows(db)
    for group in ("各县(市、区)", "相关县(市、区)", "各镇街", "市直开发区(新区)"):
        assert rows[group]["kind"] == "group"
        assert rows[group]["aliases"] == [group]
    assert rows["各县(市、区)"]["level"] == "县"


def test_district_branch_and_bureau_spellings_merge(db) -> None:  # type: ignore[no-untyped-def]
    rows = unit_rows(db)
    assert set(rows["区自然资源和规划局"]["aliases"]) == {"区自然资源和规划局", "区自然资源和规划分局"}
    assert rows["区生态环境局"]["aliases"] == ["区生态环境分局"]


def test_issuer_place_name_becomes_the_level_word(db) -> None:  # type: ignore[no-untyped-def]
    rows = unit_rows(db)
    assert set(rows["新区规建局"]["aliases"]) == {"新区规建局", "滨海新区规建局"}
    assert "滨海新区规建局" not in rows


def test_levels_stay_apart(db) -> None:  # type: ignore[no-untyped-def]
    rows = unit_rows(db)
    # 区 (越城区) and 新区 (滨海新区) are different governments in the same document.
    assert {"区消防救援大队", "新区消防救援大队", "区经信局", "新区经发局"} <= set(rows)
    assert rows["新区经发局"]["level"] == "新区"


def test_both_spellings_of_one_body_merge_when_both_appear(db) -> None:  # type: ignore[no-untyped-def]
    # The sample writes only 市发改委; add the full spelling to the same document.
    m = next(db["responsibilities"].rows_where("doc_id = ? and unit = '市发改委'", [D004]))
    db["responsibilities"].insert({**m, "id": "extra-full-spelling", "seq": 99, "unit": "市发展改革委"})
    db["responsibilities"].insert({**m, "id": "extra-no-prefix", "seq": 98, "unit": "发展和改革委员会"})
    before = unit_rows(db)["市发改委"]["mentions"]
    units.refresh_units(db)
    rows = unit_rows(db)
    assert set(rows["市发改委"]["aliases"]) == {"市发改委", "市发展改革委", "发展和改革委员会"}
    assert rows["市发改委"]["mentions"] == before + 2
    assert "市发展改革委" not in rows


def test_places_and_others(db) -> None:  # type: ignore[no-untyped-def]
    rows = unit_rows(db)
    assert rows["上虞市"]["kind"] == "place" and rows["上虞市"]["level"] == "县"  # county-level city
    assert rows["绍兴县"]["level"] == "县"
    assert rows["人民银行"]["kind"] == "other" and rows["人民银行"]["level"] is None
    # A fragment (二局 of 新区招商一局、二局) is kept as written, not guessed at.
    assert resolve("二局", "区") == UnitName("二局", None, "other")


def test_document_levels_of_the_sample(db) -> None:  # type: ignore[no-untyped-def]
    plans = {r["doc_id"]: json.loads(r["issuers"]) for r in db["plans"].rows}
    assert document_level(plans[D001], raw_units(db, D001)) == "区"
    assert document_level(plans["003_28bac5d74b912b57"], []) == "市"
    assert plans[D004] == [] and document_level([], raw_units(db, D004)) == "市"


def test_refresh_is_idempotent_and_keeps_raw_names(db) -> None:  # type: ignore[no-untyped-def]
    before = list(db.query("select id, unit from responsibilities order by id"))
    first = (list(db["units"].rows), list(db["unit_mentions"].rows))
    assert units.refresh_units(db) == {"units": len(first[0]), "mentions": len(before)}
    assert (list(db["units"].rows), list(db["unit_mentions"].rows)) == first
    assert list(db.query("select id, unit from responsibilities order by id")) == before
    assert sum(r["mentions"] for r in units.list_units(db)) == len(before)
    assert {r["raw"] for r in db["unit_mentions"].rows} == {r["unit"] for r in before}


def test_old_results_get_mentions_but_units_count_latest_only(db) -> None:  # type: ignore[no-untyped-def]
    rid = next(db["results"].rows_where("doc_id = ?", [D004]))["id"]
    newest = next(db["results"].rows_where("doc_id = ?", [D001]))
    # A newer result for 001 (same run id suffices) supersedes nothing in 004.
    db["results"].insert({**newest, "id": "newer-001"})
    units.refresh_units(db)
    assert db["unit_mentions"].count_where("result_id = ? and latest = 1", [rid]) > 0
    assert db["unit_mentions"].count_where("doc_id = ? and latest = 1", [D001]) == 0
    assert "区经信局" not in unit_rows(db)


def test_ensure_tables_upgrades_an_older_shape(tmp_path: Path) -> None:
    conn = store.open_db(tmp_path / "old.db")
    conn["units"].drop()  # as a version before the unit tables had today's columns left it
    conn["units"].create({"canonical": str, "mentions": int}, pk="canonical")
    units.ensure_tables(conn)
    assert {c.name for c in conn["units"].columns} == set(units.UNITS_COLUMNS)
    units.refresh_units(conn)  # an empty database is fine
    assert units.list_units(conn) == []


@pytest.mark.parametrize(("raw", "level", "expected"), [
    ("市发展改革委", None, "市发改委"),
    ("发改局", "区", "区发改局"),  # bureau, not committee
    ("市场监督管理局", "区", "区市场监管局"),  # 市场 is not a 市 prefix
    ("市市场监管局", "区", "市市场监管局"),
    ("人社局", "县", "县人力社保局"),
    ("区委人才办", "区", "区委人才办"),
    ("经济和信息化局", "市", "市经信局"),
    ("生态环境局", "市", "市生态环境局"),
    ("市环保局", None, "市环保局"),  # renamed body, kept apart from 生态环境局
])
def test_resolve(raw: str, level: str | None, expected: str) -> None:
    assert resolve(raw, level).canonical == expected


def test_alias_table_is_level_free_and_consistent() -> None:
    path = ROOT / "summarizer" / "data" / "unit_aliases.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows and set(rows[0]) == {"canonical", "alias", "note"}
    table = units.alias_table()
    for r in rows:
        assert table[r["alias"]] == r["canonical"]
        assert table[r["canonical"]] == r["canonical"]
        for name in (r["alias"], r["canonical"]):
            assert units.level_of(name) is None, name
    assert len({(r["canonical"], r["alias"]) for r in rows}) == len(rows)
