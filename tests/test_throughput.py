"""Throughput machinery keeps results exact: worker processes, the batching writer,
incremental units, shards and merge, and the faster rule readers."""

from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path
from typing import Any

from conftest import DOCS
from typer.testing import CliRunner

from summarizer.backends import get_backend
from summarizer.brief import abstract
from summarizer.extract.goals import _SPLIT_RE, _split_keys, _split_matches
from summarizer.ingest import noise
from summarizer.interfaces.cli import app
from summarizer.pipeline import in_shard, parse_shard, run_batch
from summarizer.store import db as store
from summarizer.store.units import refresh_units


def _corpus(tmp_path: Path, copies: int = 3) -> Path:
    """Distinct documents (a line differs), plus two files competing for one id."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for src in sorted(DOCS.glob("*.txt")):
        text = src.read_text("utf-8")
        for i in range(copies):
            (folder / f"{src.stem}_{i}.txt").write_text(f"{text}\n（第{i}份）\n", "utf-8")
    for sub in ("a", "b"):  # both `index`: the second gets `index-<hash>`
        (folder / sub).mkdir()
        (folder / sub / "index.txt").write_text(
            f"一、重点任务\n1.推进{sub}项改造。到2025年完成改造企业{len(sub) + 3}家。（责任单位：市经信局）\n", "utf-8")
    return folder


def _texts(rnd: random.Random, pieces: Any, count: int, shortest: int, longest: int) -> list[str]:
    """The samples, then `count` texts of `shortest` to `longest` - 1 random pieces: what a
    fast reader is compared with its plain version on."""
    texts = [p.read_text("utf-8") for p in sorted(DOCS.glob("*.txt"))]
    return texts + ["".join(rnd.choice(pieces) for _ in range(rnd.randrange(shortest, longest))) for _ in range(count)]


def _spans(matches: Any) -> list[tuple[Any, ...]]:
    return [(m.span(), m.groups()) for m in matches]


def _same_in_windows(rnd: random.Random, texts: list[str], plain: Any, fast: Any) -> int:
    """fast(t, a, b) == plain(t, a, b) over each whole text and one random window of it;
    returns how many items the plain version gave (a test asserts there were enough)."""
    found = 0
    for t in texts:
        start, end = sorted((rnd.randrange(0, len(t) + 1), rnd.randrange(0, len(t) + 1)))
        for a, b in ((0, len(t)), (start, end)):
            want = plain(t, a, b)
            assert fast(t, a, b) == want, (t, a, b)
            found += len(want)
    return found


def _content(db_path: Path) -> dict[str, Any]:
    """Everything stored that does not depend on run ids or clocks."""
    conn = store.open_db(db_path, create=False)
    docs = {}
    for doc_id, rid in store.latest_results(conn).items():
        docs[doc_id] = store.load_result(conn, rid).model_dump(mode="json")
    documents = sorted(tuple(r[k] for k in ("id", "path", "sha256", "encoding", "raw_text", "clean_text"))
                       for r in conn.query("select * from documents"))
    doc_runs = sorted((r["doc_id"], r["path"], r["status"], r["error"]) for r in conn.query("select * from doc_runs"))
    units = [dict(r) for r in conn.query("select * from units order by canonical")]
    mentions = sorted(tuple(r[k] for k in ("canonical", "level", "kind", "raw", "note", "level_source", "role",
                                           "doc_id", "latest"))
                      for r in conn.query("select * from unit_mentions"))
    fts = conn.execute("select count(*) from goals_fts where goals_fts match '企业'").fetchone()[0]
    conn.close()
    return {"docs": docs, "documents": documents, "doc_runs": doc_runs, "units": units, "mentions": mentions,
            "fts": fts}


def _dump(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for 'nothing changed'."""
    conn = sqlite3.connect(db_path)
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' "
                                         "and name not like 'sqlite_%'")]
    out = {t: sorted(conn.execute(f"select * from [{t}]").fetchall(), key=repr) for t in tables}
    conn.close()
    return out


def test_two_shards_merged_give_the_rows_of_one_run_and_a_second_merge_changes_nothing(tmp_path: Path) -> None:
    folder = _corpus(tmp_path)
    whole = tmp_path / "whole.db"
    assert run_batch([folder], whole, get_backend("rules")).ok
    files = sorted(p for p in folder.rglob("*.txt"))
    parts = [[p for p in files if in_shard(p, (i, 2))] for i in (1, 2)]
    assert all(parts) and sum(map(len, parts)) == len(files)  # a real split, every file once
    shard_dbs = []
    for i in (1, 2):
        db = tmp_path / f"shard{i}.db"
        res = CliRunner().invoke(app, ["run", str(folder), "--db", str(db), "--backend", "rules",
                                       "--shard", f"{i}/2", "--jobs", "2"])
        assert res.exit_code == 0, res.output
        assert f"{len(parts[i - 1])} documents" in res.output
        shard_dbs.append(db)
    merged = tmp_path / "merged.db"
    res = CliRunner().invoke(app, ["merge", str(merged), *map(str, shard_dbs)])
    assert res.exit_code == 0, res.output
    assert _content(merged) == _content(whole)
    before = _dump(merged)
    res = CliRunner().invoke(app, ["merge", str(merged), *map(str, shard_dbs)])
    assert res.exit_code == 0 and res.output.count("0 rows added (already merged)") == 2, res.output
    assert _dump(merged) == before


def test_shard_spec_is_checked() -> None:
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/2", "3/2", "x", "1/2/3"):
        res = CliRunner().invoke(app, ["run", str(DOCS), "--db", "/nonexistent/x.db", "--shard", bad,
                                       "--backend", "rules"])
        assert res.exit_code == 2 and "--shard" in res.output


def test_worker_processes_store_what_one_process_stores_in_input_order(tmp_path: Path) -> None:
    folder = _corpus(tmp_path, copies=2)
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    s1 = run_batch([folder], one, get_backend("rules"), jobs=1)
    s2 = run_batch([folder], two, get_backend("rules"), jobs=2)
    assert [o.path for o in s2.outcomes] == [o.path for o in s1.outcomes]
    assert [o.message for o in s2.outcomes] == [o.message for o in s1.outcomes]
    assert _content(two) == _content(one)
    again = run_batch([folder], two, get_backend("rules"), jobs=2)  # unchanged: skipped before any work
    assert again.count("skipped") == len(s1.outcomes) and again.documents == len(s1.outcomes)


def test_workers_that_send_no_results_store_the_same_and_report_counts(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = _corpus(tmp_path, copies=1)
    full, lean = tmp_path / "full.db", tmp_path / "lean.db"
    s1 = run_batch([folder], full, get_backend("rules"), jobs=2)
    seen: list = []
    s2 = run_batch([folder], lean, get_backend("rules"), jobs=2, results=False, on_doc=seen.append)
    assert all(o.result is None for o in seen) and all(o.result is not None for o in s1.outcomes if o.status == "ok")
    assert [o.counts for o in s2.outcomes] == [o.counts for o in s1.outcomes]
    assert _content(lean) == _content(full)
    # An id another run took meanwhile: the writer has rows for the old id and no result, so it reads
    # the document again and stores it whole.
    from summarizer.store import identity

    calls = {"n": 0}
    real = identity.still_mine

    def first_not_mine(*args):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return False if calls["n"] == 1 else real(*args)

    monkeypatch.setattr(identity, "still_mine", first_not_mine)
    again = tmp_path / "again.db"
    s3 = run_batch([folder], again, get_backend("rules"), jobs=2, results=False)
    assert s3.ok and calls["n"] > 1
    assert _content(again) == _content(full)


def test_incremental_units_equal_a_full_rebuild(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from summarizer.store import units

    took: list[bool] = []
    real = units._incremental
    monkeypatch.setattr(units, "_incremental", lambda db, changed: took.append(real(db, changed)) or took[-1])
    folder = _corpus(tmp_path, copies=2)
    db = tmp_path / "r.db"
    files = sorted(folder.rglob("*.txt"))
    run_batch(files[: len(files) // 2], db, get_backend("rules"))
    run_batch(files[len(files) // 3:], db, get_backend("rules"))  # new documents beside stored ones
    edited = files[0]
    edited.write_text(edited.read_text("utf-8").replace("牵头", "负责"), "utf-8")  # units change roles
    run_batch([edited, files[-1]], db, get_backend("rules"), force=True)  # newer results supersede
    # The first run, into a new database, counted its units as it wrote them (no refresh to run);
    # the others only add to the tables.
    assert took == [True, True]
    conn = store.open_db(db)
    incremental = (_dump(db)["units"], sorted(conn.execute(
        "select responsibility_id, canonical, level, kind, raw, note, level_source, role, latest "
        "from unit_mentions").fetchall()))
    refresh_units(conn)  # from scratch
    rebuilt = (_dump(db)["units"], sorted(conn.execute(
        "select responsibility_id, canonical, level, kind, raw, note, level_source, role, latest "
        "from unit_mentions").fetchall()))
    assert incremental == rebuilt
    assert sum(m[-1] for m in rebuilt[1]) < len(rebuilt[1])  # superseded mentions are there, not latest


def _units_and_mentions(conn: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    return (conn.execute("select * from units order by canonical").fetchall(),
            sorted(conn.execute("select * from unit_mentions").fetchall()))


def test_a_run_into_a_new_database_counts_its_units_as_it_writes_them(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No mention is read back at the end of such a run, and the units are a rebuild's,
    with worker processes (rows built there) and without (rows built by the writer)."""
    from summarizer.store import units

    def no_refresh(db, changed):  # type: ignore[no-untyped-def]
        raise AssertionError("the run's end read its mentions back")

    folder = _corpus(tmp_path, copies=2)
    for jobs in (1, 2):
        db = tmp_path / f"r{jobs}.db"
        with monkeypatch.context() as m:
            m.setattr(units, "_incremental", no_refresh)
            m.setattr(units, "_rebuild", no_refresh)
            run_batch([folder], db, get_backend("rules"), jobs=jobs)
        conn = store.open_db(db)
        counted = _units_and_mentions(conn)
        assert counted[0] and conn.execute("select count(*) from results").fetchone()[0] == 12
        refresh_units(conn)  # from scratch
        assert counted == _units_and_mentions(conn)


def test_a_result_written_twice_in_one_run_leaves_the_units_to_the_refresh(tmp_path: Path) -> None:
    """A document fed again to an open session replaces its result (same result id): the
    run's tally counted both versions, so the end of the run must not use it."""
    from summarizer.pipeline import RunSession

    f = tmp_path / "a.txt"
    f.write_text("一、重点任务\n1.推进技术改造。到2025年完成改造企业5家。（责任单位：市经信局）\n", "utf-8")
    db = tmp_path / "r.db"
    session = RunSession(db, get_backend("rules"))
    with session.closing():
        session.process([f])
        f.write_text("一、重点任务\n1.推进技术改造。到2025年完成改造企业5家。（责任单位：市科技局）\n", "utf-8")
        session.process([f])
        session.completed = True
    assert session.writer.tally is None
    conn = store.open_db(db)
    assert [r[0] for r in conn.execute("select canonical from units")] == ["市科技局"]
    counted = _units_and_mentions(conn)
    refresh_units(conn)
    assert counted == _units_and_mentions(conn)


def test_units_tally_does_not_depend_on_the_order_mentions_arrive_in() -> None:
    """Kind, and level on a tie, come from a unit's first mention in id order, wherever it arrives."""
    from summarizer.store.units import TALLY_COLUMNS, Tally

    def row(canonical: str, level: str, kind: str, raw: str, rid: str, n: int) -> tuple[Any, ...]:
        values = {"canonical": canonical, "level": level, "kind": kind, "raw": raw, "note": None,
                  "role": "lead" if n % 2 else "support", "doc_id": f"d{rid}", "result_id": rid,
                  "measure_id": f"{rid}m{n:03d}", "responsibility_id": f"{rid}m{n:03d}r000"}
        return tuple(values[c] for c in TALLY_COLUMNS)

    rows = [row("甲局", "市", "body", "甲局", "b", 1), row("甲局", "区", "other", "区甲局", "a", 2),
            row("甲局", "市", "body", "市甲局", "c", 0), row("甲局", "区", "body", "甲局", "a", 5),
            row("乙办", "县", "body", "乙办", "a", 1)]
    tallies = []
    for order in (rows, rows[::-1], rows[2:] + rows[:2]):
        t = Tally()
        t.add(order)
        tallies.append(t.rows())
    assert tallies[0] == tallies[1] == tallies[2]
    unit = tallies[0][1]
    assert unit["canonical"] == "甲局" and unit["mentions"] == 4
    assert unit["kind"] == "other"  # the mention with the smallest id (result a, measure 2)
    assert unit["level"] == "区"  # 2 against 2: the level of that first mention


def test_units_refresh_resolves_results_stored_without_their_mentions(tmp_path: Path) -> None:
    """Mentions come with a result's rows; a result stored without them (another program,
    an interrupted older version) is resolved by the refresh, the same as a rebuild."""
    from summarizer.pipeline import refresh_views

    folder = _corpus(tmp_path, copies=1)
    db = tmp_path / "r.db"
    run_batch([folder], db, get_backend("rules"), refresh=False)
    conn = store.open_db(db)
    changed = {r[0] for r in conn.execute("select id from results")}
    lost = conn.execute("select result_id from unit_mentions order by result_id limit 1").fetchone()[0]
    with store.write_lock(conn):
        conn.conn.execute("delete from unit_mentions where result_id = ?", [lost])
        refresh_views(conn, changed)
    assert conn.execute("select count(*) from unit_mentions where result_id = ?", [lost]).fetchone()[0] > 0
    incremental = (_dump(db)["units"], sorted(conn.execute("select * from unit_mentions").fetchall()))
    refresh_units(conn)  # from scratch
    assert incremental == (_dump(db)["units"], sorted(conn.execute("select * from unit_mentions").fetchall()))


def test_split_targets_reader_matches_the_plain_regex_scan() -> None:
    """`_split_matches` only skips starts that cannot match: same matches as finditer."""
    rnd = random.Random(7)
    pieces = ["分别", "均", "达到", "为", "，", "。", "、", "和", "5", "12.5", "%", "亿元", "家", "以上", "指标",
              "收入", "\n", "a", " ", "市", "县", "人均", "均衡", "分别牵头", "提高", "分", "别"]
    texts = _texts(rnd, pieces, 1500, 1, 160)
    found = 0
    for t in texts:
        a = rnd.randrange(0, len(t))
        for lo, hi in ((0, len(t)), (a, rnd.randrange(a, len(t) + 1))):
            want = [(m.span(), m.groups()) for m in _SPLIT_RE.finditer(t, lo, hi)]
            assert [(m.span(), m.groups()) for m in _split_matches(t, lo, hi)] == want, (t, lo, hi)
            assert _split_keys(t, lo, hi) == [m.span() for m in re.finditer("分别|均", t[:hi]) if m.start() >= lo]
            found += len(want)
    assert found > 100


def test_docno_found_from_its_tail_equals_the_plain_search() -> None:
    """`find_docno` starts its search just before the first bracketed year: same answers
    as searching the whole head."""
    def plain(text: str) -> str | None:
        m = abstract._DOCNO_RE.search(text[:3000])
        if not m:
            return None
        start_of_line = m.start() == 0 or text[m.start() - 1] in "\n \u3000"
        number = re.sub(r"\s", "", m.group(3))
        return (m.group(1) if start_of_line else m.group(1)[-4:]) + f"〔{m.group(2)}〕{number}"

    rnd = random.Random(11)
    cjk, junk = "某市政发办字号第文", ["a", " ", "\n", "\u3000", "。", "7"]

    def near_docno() -> str:  # a CJK run of any length, blanks, brackets, a year, a number: some malformed
        return ("".join(rnd.choice(cjk) for _ in range(rnd.randrange(0, 11))) + " " * rnd.randrange(0, 3)
                + rnd.choice("〔[（【(") + rnd.choice(["2021", "1999", "20", "2021 "]) + rnd.choice("〕]）】)")
                + rnd.choice(["", " "]) + rnd.choice(["", "第"]) + str(rnd.randrange(0, 20000)) + rnd.choice(["号", "", " 号"]))

    texts = [p.read_text("utf-8") for p in sorted(DOCS.glob("*.txt"))]
    texts += ["".join(rnd.choice([near_docno, lambda: rnd.choice(junk)])() for _ in range(rnd.randrange(1, 8)))
              for _ in range(3000)]
    answers = [plain(t) for t in texts]
    assert [abstract.find_docno(t) for t in texts] == answers
    assert sum(a is not None for a in answers) > 100


def test_duty_patterns_searched_clause_by_clause_find_what_a_full_scan_finds() -> None:
    from summarizer.extract import duty

    rnd = random.Random(3)
    pieces = ["市发改委", "区财政局", "各部门", "等有关部门", "、", "和", "由", "牵头", "负责", "配合", "负总责",
              "会同", "对", "工作", "是", "责任主体", "承担", "主体责任", "要", "按照", "分工", "，", "。", "；",
              "：", " ", "\n", "（", "）", "推进"]
    texts = _texts(rnd, pieces, 1500, 1, 60)
    pairs = [(duty._PROSE_RE, duty._ROLE_VERB_RE), *((getattr(duty, f"_{k.upper()}_RE"), rx)
                                                     for k, rx in duty._DUTY_NEEDLE.items())]
    found = 0
    for t in texts:
        a = rnd.randrange(0, len(t))
        for lo, hi in ((0, len(t)), (a, rnd.randrange(a, len(t) + 1))):
            for rx, needle in pairs:
                want = [m.span() for m in rx.finditer(t, lo, hi)]
                assert [m.span() for m in duty._clause_matches(rx, needle, t, lo, hi)] == want, (rx.pattern[:40], t)
                found += len(want)
    assert found > 150


def test_lines_simplified_in_one_call_equal_lines_simplified_one_by_one() -> None:
    from summarizer.ingest import clean

    texts = ["嘉興市人民政府關于印發嘉興市先進制造業集群培育工程推進方案", "著力發展數字經濟，意味著變革",
             "乾隆", "", "  （一）強化組織領導。各縣（市、區）要著眼長遠", "後來", "皇后", "頭髮", "理髮店"]
    texts += sorted(DOCS.glob("*.txt"))[0].read_text("utf-8").splitlines()[:40]
    lines = [clean._Line(t, list(range(len(t)))) for t in texts]
    clean._simplify(lines)
    for t, line in zip(texts, lines):
        alone = clean.to_simplified(t)
        if len(alone) != len(t):
            alone = "".join(clean.to_simplified(c)[:1] or c for c in t)
        assert line.text == alone and len(line.offs) == len(line.text)
    assert lines[0].text == "嘉兴市人民政府关于印发嘉兴市先进制造业集群培育工程推进方案"
    assert lines[1].text == "着力发展数字经济，意味着变革"


def test_year_scopes_found_from_the_year_equal_the_plain_scan() -> None:
    from summarizer.extract import goals

    rnd = random.Random(9)
    pieces = ["到", "至", "于", "力争", "确保", "在", "争", "保", "力", "2025", "2026", "20", "年", "年底", "底", "前",
              " ", "，", "比", "—", "1"]
    texts = _texts(rnd, pieces, 3000, 1, 40)
    found = 0
    for t in texts:
        want = [(m.start(), m.end(), int(m.group("year"))) for m in goals._YEAR_SCOPE_RE.finditer(t)]
        assert list(goals._year_scope_spans(t)) == want, t
        found += sum(1 for s, _, _ in want if not t[s].isdigit())
    assert found > 100  # matches that start with a lead word


def test_extra_spaces_from_runs_equal_the_lookbehind_pattern() -> None:
    from summarizer.ingest import clean

    rnd = random.Random(4)
    pattern = re.compile(r"(?<= ) +|^ +| +$")
    for _ in range(5000):
        t = "".join(rnd.choice(" a中") for _ in range(rnd.randrange(0, 12)))
        assert clean._extra_spaces(t) == [m.span() for m in pattern.finditer(t)], repr(t)


def test_brackets_unified_by_substitution_as_by_the_table() -> None:
    from summarizer.brief import factcheck

    rnd = random.Random(2)
    alphabet = "[]［］【】()（）〖〗〔〕a中文"
    for _ in range(3000):
        t = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 15)))
        assert factcheck._unify_brackets(t) == t.translate(factcheck._BRACKETS)


def test_spam_patterns_match_where_a_leading_lookbehind_would() -> None:
    rnd = random.Random(5)
    pieces = ["a", "v", "av", "x", " ", "|", "成人", "视频", "博彩", "A", "V", "1"]
    for word in [w for w in noise.spam_words() if w.isascii()] + ["av", "x"]:
        moved = re.compile(noise._spam_pattern(word))
        leading = re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])")
        for _ in range(400):
            t = "".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 12)))
            assert [m.span() for m in moved.finditer(t)] == [m.span() for m in leading.finditer(t)], (word, t)
    assert noise.is_noise_line("COPYRIGHT © 2024 某市人民政府 版权所有")  # footers in any letter case
    assert noise.is_noise_line("Copyright 2024")


def _clean_line_by_line(raw: str) -> tuple[str, tuple[int, ...]]:
    """clean_text as it was written first: every step on every line (the reference)."""
    from summarizer.ingest import clean

    lines = []
    pos = 0
    for raw_line in raw.splitlines(keepends=True):
        body = raw_line.rstrip("\r\n")
        line = clean._Line(body, list(range(pos, pos + len(body))))
        pos += len(raw_line)
        clean._normalize_spaces(line)
        if not line.text:
            continue
        clean._drop_pinyin(line)
        lines.append(line)
    clean._simplify(lines)
    kept = []
    for line in lines:
        line.delete_matches(re.compile(r"[,，](?=[,，、。；;：:！？!?])"))
        clean._normalize_spaces(line)
        if not line.text or clean._TABLE_RULE_RE.match(line.text) or noise.is_noise_line(line.text):
            continue
        kept.extend(clean._split_long(line))
    offsets: list[int] = []
    for i, line in enumerate(kept):
        if i:
            offsets.append(max(0, line.offs[0] - 1))
        offsets.extend(line.offs)
    return "\n".join(line.text for line in kept), tuple(offsets)


def test_cleaning_with_document_level_prefilters_equals_every_step_on_every_line() -> None:
    """The pinyin, footer and spam searches skipped for a document that has none, and the
    second normalization for lines nothing changed: the same text and offsets."""
    from summarizer.ingest import clean

    rnd = random.Random(11)
    pieces = ["業", "發", "(yè)", "（fā）", "(\u200byè)", "（\ufeffde）", "(", "（", ")", "）", "y", "è", "de", "\u200b", "\ufeff", "\x07", " ", "  ",
              "\u3000", "\t", "，", ",", "。", "\n", "\r\n", "版权所有", "Copyright", "av", "成人视频", "博彩", "|",
              "首页", ">", "中文", "著力", "變革", "2026年"]
    texts = _texts(rnd, pieces, 3000, 0, 60)
    dropped = 0
    for t in texts:
        got = clean.clean_text(t)
        assert (got.text, got.raw_offsets) == _clean_line_by_line(t), repr(t)
        dropped += len(got.text) < len(t.replace("\n", ""))
    assert dropped > 1000  # the generated texts do get cleaned
    assert noise.noise_flags(["首页 > 政务公开 > 通知", "正文", "Copyright 2024"]) == [True, False, True]


def test_measure_line_cut_at_the_last_clause_mark_as_by_scanning_every_position() -> None:
    from summarizer.brief import measure_summary as ms

    rnd = random.Random(6)
    checked = 0
    for _ in range(3000):
        t = "".join(rnd.choice("中文中文中文，、：,:a ") for _ in range(rnd.randrange(0, 90))) + rnd.choice(["", "。尾"])
        a, b = rnd.randrange(0, 3), len(t)
        got = ms.first_line(t, a, b)
        # the plain reading: the last clause mark 8..40 characters into the sentence
        start = a
        while start < b and t[start] in ms._LEAD:
            start += 1
        m = ms._SENT_END.search(t, start, b)
        end = m.start() if m else b
        if start < b and end - start > ms.MAX_CHARS and ms._NOTE.search(t[start:end]) is None:
            cut = max((i for i in range(start + 8, start + ms.MAX_CHARS + 1) if t[i] in ms._CLAUSE), default=None)
            end = cut if cut is not None else start + ms.MAX_CHARS
            while end > start and t[end - 1] in ms._LEAD:
                end -= 1
            assert got == ((start, end) if end > start else None), t
            checked += 1
    assert checked > 300


def _gc_state() -> tuple[int, int]:
    import gc

    return gc.get_threshold()[0], gc.get_freeze_count()


def test_worker_processes_collect_garbage_less_often_and_skip_what_the_fork_brought(tmp_path: Path) -> None:
    import gc

    from summarizer.pipeline import RunSession

    session = RunSession(tmp_path / "r.db", get_backend("rules"), jobs=2, documents=0)
    try:
        assert session.ppool is not None
        threshold, frozen = session.ppool.submit(_gc_state).result()
    finally:
        session.close()
    assert threshold > gc.get_threshold()[0] and frozen > 1000  # this process is left as it was


def test_clause_and_sentence_starts_by_bisection_equal_the_walk_back() -> None:
    from summarizer.extract import goals

    def walk(text: str, pos: int, lo: int, stops: str) -> int:
        i = pos
        while i > lo and text[i - 1] not in stops:
            i -= 1
        return i

    rnd = random.Random(17)
    texts = _texts(rnd, "中文，,。；;！？：:\n|a、", 1500, 0, 40)
    for t in texts:
        start, end = sorted((rnd.randrange(0, len(t) + 1), rnd.randrange(0, len(t) + 1)))
        starts = goals._Starts(t, start, end)
        for _ in range(40):
            pos, lo = rnd.randrange(start, end + 1), rnd.randrange(start, end + 1)
            assert starts.clause_start(pos, lo) == walk(t, pos, lo, goals._CLAUSE_SEP), (t, start, end, pos, lo)
            assert starts.sentence_start(pos, lo) == walk(t, pos, lo, "。；;！？\n|"), (t, start, end, pos, lo)


def test_char_positions_by_splitting_equal_a_one_character_search() -> None:
    """`char_positions` (one `str.split`) finds what a search for the character finds."""
    from summarizer.extract import scan

    rnd = random.Random(23)
    texts = _texts(rnd, "中文，,。；;！？：:\n|a、", 1500, 0, 40)
    for t in texts:
        start, end = sorted((rnd.randrange(0, len(t) + 1), rnd.randrange(0, len(t) + 1)))
        for c in "，\n|a家":
            want = [m.start() for m in re.finditer(re.escape(c), t[:end]) if m.start() >= start]
            assert scan.char_positions(t, c, start, end) == want, (t, c, start, end)


def test_duty_separators_found_by_pattern_equal_the_bracket_walk_where_there_are_no_brackets() -> None:
    from summarizer.extract import duty

    rnd = random.Random(12)
    plain = 0
    for _ in range(4000):
        t = "".join(rnd.choice("局委、/；;，, （）()【】[]市") for _ in range(rnd.randrange(0, 30)))
        start, end = sorted((rnd.randrange(0, len(t) + 1), rnd.randrange(0, len(t) + 1)))
        if duty._BRACKETS_RE.search(t, start, end) is not None:
            continue
        plain += 1
        for seps in ("、/", "；;", "，,"):
            assert ([m.start() for m in duty._separators(seps).finditer(t, start, end)]
                    == duty._cuts_outside_brackets(t, start, end, seps)), (t, start, end, seps)
    assert plain > 500
    # Parts stripped and empty ones left out, brackets or not.
    assert duty._split_top("，市局、（县、区）局、", 0, 11, "、") == [(1, 3), (4, 10)]


def test_a_worker_process_that_dies_fails_its_document_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    from summarizer.ingest import load

    parent = os.getpid()

    def dies_in_a_worker(path: Path) -> tuple[str, str]:
        if os.getpid() != parent:
            os._exit(3)  # a worker killed mid-document (out of memory, kill -9)
        return "一、重点任务\n1.推进改造。（责任单位：市经信局）\n", "utf-8"

    load._register_formats()
    monkeypatch.setitem(load.READERS, ".die", dies_in_a_worker)
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, name in enumerate(["a.txt", "b.die", "c.txt", "d.txt"]):
        (folder / name).write_text(f"一、重点任务\n{i + 1}.推进改造{i}。（责任单位：市经信局）\n", "utf-8")
    db = tmp_path / "r.db"
    summary = run_batch([folder], db, get_backend("rules"), jobs=2)
    assert [Path(o.path).name for o in summary.outcomes] == ["a.txt", "b.die", "c.txt", "d.txt"]
    died = summary.outcomes[1]
    assert died.status == "failed" and "worker process died" in died.message and "b.die" in died.message
    again = run_batch([folder], db, get_backend("rules"), jobs=1)  # the next run retries what failed
    assert [o.status for o in again.outcomes][1] == "ok"


def test_run_one_stores_a_document_then_skips_it_unchanged(tmp_path: Path) -> None:
    from summarizer.pipeline import run_one

    db = store.open_db(tmp_path / "r.db")
    db.table("runs").insert({"id": "r1", "backend": "rules"})
    doc = sorted(DOCS.glob("*.txt"))[1]
    first = run_one(db, doc, get_backend("rules"), "r1", False)
    assert first.status == "ok" and first.result is not None and first.result.measures
    assert run_one(db, doc, get_backend("rules"), "r1", False).status == "skipped"
    assert db.table("results").count == 1 and db.table("doc_runs").count == 1  # same (run, path): one row


def test_search_index_catches_up_while_the_last_documents_are_in_the_workers(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Once every file is submitted, what is written is indexed at once, not after the last
    document (when the other core would idle); every result ends up indexed all the same."""
    from summarizer import pipeline
    from summarizer.store import search

    folder = tmp_path / "docs"
    folder.mkdir()
    limit = pipeline._in_flight(2, 2)
    n = limit + 20
    for i in range(n):
        (folder / f"d{i:03d}.txt").write_text(f"一、重点任务\n1.推进第{i}项改造。到2025年完成改造企业{i + 3}家。"
                                             "（责任单位：市经信局）\n", "utf-8")
    written: list[str] = []
    calls: list[tuple[int, int]] = []  # (documents reported when the index caught up, results it indexed)
    real = search.index_pending

    def watched(db):  # type: ignore[no-untyped-def]
        calls.append((len(written), search.pending(db)))
        return real(db)

    monkeypatch.setattr(search, "index_pending", watched)
    db_path = tmp_path / "r.db"
    summary = run_batch([folder], db_path, get_backend("rules"), jobs=2, keep_results=False,
                        on_doc=lambda o: written.append(o.doc_id))
    assert summary.count("ok") == n
    # The input ran out when `limit` documents were still to be written: the index caught up on the
    # others then, and the end of the run indexed only the last ones.
    assert calls == [(n - limit + 1, n - limit + 1), (n, limit - 1)]
    db = store.open_db(db_path)
    assert search.pending(db) == 0
    assert db.conn.execute("select count(*) from measures_fts").fetchone()[0] == \
        db.conn.execute("select count(*) from measures").fetchone()[0]


def test_rules_result_with_assigned_items_equals_one_validated_whole() -> None:
    """The rules backend assigns its validated goals and measures (pydantic re-runs their
    validators on instances passed to a model) and gives responsibilities as plain data:
    the same result, fields set and all, as validating the whole from instances."""
    from summarizer.backends.rules import RulesBackend, measure_duties
    from summarizer.models import DocumentResult, GroundedMeasure, Responsibility
    from summarizer.pipeline import prepare

    checked = 0
    for src in sorted(DOCS.glob("*.txt")):
        _, doc = prepare(src.stem, src.read_text("utf-8"))
        got = RulesBackend().extract(doc)
        for m, duties in zip(got.measures, measure_duties(doc.outline)):
            built = GroundedMeasure(
                number=m.number, title=m.title, section=m.section, start=m.start, end=m.end, quote=m.quote,
                body_end=m.body_end, responsibilities=[Responsibility(unit=d.unit, role=d.role) for d in duties])
            assert m == built and m.model_fields_set == built.model_fields_set
            checked += len(duties)
        whole = DocumentResult(doc_id=got.doc_id, plan=got.plan, goals=got.goals, measures=got.measures,
                               dropped=got.dropped)
        assert got == whole and got.model_fields_set == whole.model_fields_set
        assert got.model_dump_json() == whole.model_dump_json()
    assert checked > 50


def test_result_rows_equal_rows_built_column_by_column() -> None:
    """`store.result_rows` passes a dump of scalars on as it is; the rows (keys in order, values)
    are those of checking every column, as before, on the samples (a plan's issuers are a list)."""
    import json

    from summarizer.backends.rules import RulesBackend
    from summarizer.brief.abstract import add_summaries
    from summarizer.pipeline import prepare

    def columns(dumped: dict[str, Any], exclude: str = "") -> dict[str, Any]:
        return {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                for k, v in dumped.items() if k != exclude}

    results = []
    for src in sorted(DOCS.glob("*.txt")):
        cleaned, doc = prepare(src.stem, src.read_text("utf-8"))
        results.append(add_summaries(RulesBackend().extract(doc), cleaned))
    assert any(r.plan.issuers for r in results) and any(m.responsibilities for m in results[1].measures)
    for result in results:
        rid, rows = store.result_rows(result, "run1", "sha", "rules", "", "v1")
        keys = {"result_id": rid, "doc_id": result.doc_id, "run_id": "run1"}
        plain = {
            "plans": [{**keys, **columns(result.plan.model_dump(mode="json"))}],
            "goals": [{"id": f"{rid}g{i:03d}", **keys, "seq": i, **columns(g.model_dump(mode="json"))}
                      for i, g in enumerate(result.goals)],
            "measures": [{"id": f"{rid}m{i:03d}", **keys, "seq": i,
                          **columns(m.model_dump(mode="json"), "responsibilities")}
                         for i, m in enumerate(result.measures)],
            "responsibilities": [{"id": f"{rid}m{i:03d}r{j:03d}", "measure_id": f"{rid}m{i:03d}", **keys, "seq": j,
                                  **columns(r.model_dump(mode="json"))}
                                 for i, m in enumerate(result.measures) for j, r in enumerate(m.responsibilities)],
        }
        for table, expected in plain.items():
            assert [list(r.items()) for r in rows[table]] == [list(r.items()) for r in expected], table


def test_a_batch_keeps_its_savepoint_journals_in_memory_and_restores_the_setting_after(tmp_path: Path) -> None:
    """Each document's savepoint journal stays in memory while a batch is written (not a
    temporary file per document); afterwards temporary storage is as it was, so the derived
    tables' large sorts still spill to disk."""
    from summarizer.pipeline import RunSession

    folder = _corpus(tmp_path, copies=1)
    session = RunSession(tmp_path / "r.db", get_backend("rules"), documents=None)
    seen: list[int] = []
    session.writer.in_transaction = lambda db, outcome: seen.append(
        db.conn.execute("PRAGMA temp_store").fetchone()[0])
    before = session.db.conn.execute("PRAGMA temp_store").fetchone()[0]
    with session.closing():
        session.process(sorted(folder.rglob("*.txt")))
        session.completed = True
    assert seen and set(seen) == {2}  # 2: MEMORY, inside every batch
    assert session.db.conn.execute("PRAGMA temp_store").fetchone()[0] == before != 2


def test_document_level_cleaning_flags_equal_the_character_class_searches() -> None:
    """The invisible, odd-space and pinyin flags of `clean_text`, found by `isprintable`, single
    characters and one pattern per bracket, equal the searches with the plain classes."""
    from summarizer.ingest import clean

    invisible_re = re.compile(f"[{clean._INVISIBLE}]")
    odd_re = re.compile(f"[{clean._ODD_SPACES}]")
    pinyin_re = re.compile(f"[(（][{clean._INVISIBLE}]*[a-zü{clean._TONED}]")
    every = [chr(c) for c in [*range(0, 0xA1), 0x200B, 0xFEFF, 0x3000, 0x2002, 0x2003, 0x2009, 0x2028, 0xAD]]
    pieces = ["中文", "（一）", "(", "（", "yè", "Ā", "，", "\n", " ", "\r\n", *every]
    rnd = random.Random(29)
    texts = [p.read_text("utf-8") for p in sorted(DOCS.glob("*.txt"))]
    texts += ["".join(rnd.choice(pieces[:10] if i % 3 else pieces) for _ in range(rnd.randrange(0, 30)))
              for i in range(3000)]
    flagged = [0, 0, 0]
    for t in texts:
        want = (invisible_re.search(t) is not None, odd_re.search(t) is not None)
        assert clean._invisible_and_odd(t) == want, repr(t)
        pinyin = pinyin_re.search(t) is not None
        assert any(rx.search(t) for rx in clean._PINYIN_HINT_RES) == pinyin, repr(t)
        flagged = [f + x for f, x in zip(flagged, (*want, pinyin))]
    assert min(flagged) > 100 and max(flagged) < len(texts) - 500  # both answers are tested


def test_magnitude_counts_found_from_their_hints_equal_the_plain_scan() -> None:
    from summarizer.extract import goals

    rnd = random.Random(31)
    pieces = ["创建", "打造", "培育", "由", "新增", "、", "百", "千", "万", "百万", "千万", "家", "名", "所", "座",
              "企业", "“", "，", "a", "计划"]
    texts = _texts(rnd, pieces, 3000, 0, 40)
    found = _same_in_windows(rnd, texts, lambda t, a, b: _spans(goals._MAGNITUDE_RE.finditer(t, a, b)),
                             lambda t, a, b: _spans(goals._magnitude_matches(t, a, b)))
    assert found > 500


def test_target_figures_found_from_their_digits_equal_the_plain_scan() -> None:
    from summarizer.extract import goals

    rnd = random.Random(37)
    pieces = ["1", "23", "4.5", ".", "-", "—", "至", " ", "%", "亿元", "万", "/", "人", "以上", "左右", "年",
              "２", "٣", "中", "，", "\n", "TB"]
    texts = _texts(rnd, pieces, 3000, 0, 40)
    found = _same_in_windows(rnd, texts, lambda t, a, b: _spans(goals.TARGET_RE.finditer(t, a, b)),
                             lambda t, a, b: _spans(goals._target_matches(t, a, b)))
    assert found > 10000


def test_line_start_patterns_tried_at_line_starts_equal_the_plain_scan() -> None:
    """Year headings (三、2026年重点工作) and decimal section lines (3.2 预警), patterns that open
    with `^`: the same matches tried at line starts only."""
    from summarizer.extract import goals, scan, structure

    rnd = random.Random(41)
    pieces = ["一、", "三、", "十二、", "2026年", "2025 年", "重点工作", "。", "\n", "\n\n", " ", "　", "—", "2024—2026年", "中", "5",
              "3.2", "1.1 ", "12.3\n", "."]
    texts = _texts(rnd, pieces, 3000, 0, 30)
    found = [0, 0]
    for t in texts:
        for i, rx in enumerate((goals._YEAR_HEADING_RE, structure._DECIMAL_LINE_RE)):
            want = [(m.span(), m.groups()) for m in rx.finditer(t)]
            assert [(m.span(), m.groups()) for m in scan.line_start_matches(rx, t)] == want, t
            found[i] += len(want)
    assert min(found) > 80


def test_doubled_commas_found_per_comma_equal_the_class_pattern() -> None:
    from summarizer.ingest import clean

    plain = re.compile(r"[,，](?=[,，、。；;：:！？!?])")
    rnd = random.Random(43)
    texts = _texts(rnd, ",，、。；;：:！？!?中a ", 3000, 0, 30)
    found = 0
    for t in texts:
        want = [m.span() for m in plain.finditer(t)]
        assert clean._doubled_commas(t) == want, t
        found += len(want)
    assert found > 3000


def test_review_titles_prefiltered_by_their_words_equal_the_plain_search() -> None:
    from summarizer.extract import structure

    rnd = random.Random(47)
    words = re.findall(r"[\u4e00-\u9fff]+", structure.REVIEW_TITLE_RE.pattern)
    pieces = [*words, *"回顾基础现状形势成效绩就进展问题挑战环境背景十一二三四五时期间，。“”\"", "加强", "推进", "发展"]
    titles = ["".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 8))) for _ in range(4000)]
    reviews = 0
    for t in titles:
        if structure.REVIEW_TITLE_RE.search(t):
            assert any(w in t for w in structure._REVIEW_WORDS), t
        item = structure.Item("cn", 1, "一", t, 0, 0, 0, 0)
        want = bool(structure.REVIEW_TITLE_RE.search(t)) and not structure._TASK_VERB_RE.match(t)
        assert structure.is_review(item) == want, t
        reviews += want
    assert 500 < reviews < 3500


def test_fact_normalization_skips_searches_only_where_they_find_nothing() -> None:
    import unicodedata

    from summarizer.brief import factcheck

    every = "".join(map(chr, range(0x110000)))
    assert all(c == " " or not c.isprintable() for c in re.findall(r"\s", every))  # the skip's premise
    rnd = random.Random(53)
    pieces = ["1", ",", "000", "１", "，", "中", " ", "\u3000", "\n", "\t", "\xa0", "\u2028", "％", "a"]
    for _ in range(4000):
        t = "".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 20)))
        plain = re.sub(r",(?<=\d,)(?=\d{3})", "", re.sub(r"\s+", "", unicodedata.normalize("NFKC", t)))
        assert factcheck.normalize(t) == plain, repr(t)


def test_deadline_years_found_from_the_year_equal_the_lead_first_pattern() -> None:
    from summarizer.extract import metadata

    plain = re.compile(r"(?:到|至|力争到)(20\d\d)\s*年")
    rnd = random.Random(59)
    pieces = ["到", "至", "力争", "力争到", "2026", "2030", "20", "1", " ", "年", "年底", "中"]
    texts = _texts(rnd, pieces, 3000, 0, 30)
    found = 0
    for t in texts:
        want = plain.findall(t)
        assert metadata._DEADLINE_RE.findall(t) == want, t
        found += len(want)
    assert found > 200


def test_period_scopes_tried_before_their_hints_equal_the_plain_scan() -> None:
    from summarizer.extract import goals

    rnd = random.Random(61)
    pieces = ["2024", "2027", "—", "至", "年", "，", "。", "；", "\n", " ", "\u3000", "每年", "中", "1",
              "2024—2027年，", "2024 - 2027 年 ,", "2025至2030年，", "2023~2025年"]
    texts = _texts(rnd, pieces, 4000, 0, 20)
    found = 0
    for t in texts:
        want = [(m.span(), m.groups()) for m in goals._PERIOD_SCOPE_RE.finditer(t)]
        assert [(m.span(), m.groups()) for m in goals._period_scopes(t)] == want, repr(t)
        found += len(want)
    assert found > 100


def _find_notes_by_class_search(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """`duty.find_notes` as it was: the next bracket by a class search, labeled lines by finditer."""
    from summarizer.extract import duty

    spans: list[tuple[int, int]] = []
    i = start
    while i < end:
        o = re.compile("[（(]").search(text, i, end)
        if o is None:
            break
        i = o.start()
        j = duty._close(text, i, end)
        if j is None:
            i += 1
            continue
        inner = text[i + 1 : j]
        if duty._LABEL_RE.search(inner) or duty._VERB_RE.search(inner.rstrip("。；;，, ")):
            spans.append((i + 1, j))
        i = j + 1
    for m in duty._LABEL_LINE_RE.finditer(text[start:end]):
        spans.append((start + m.start(), start + m.end()))
    return spans


def test_duty_notes_found_from_bracket_positions_equal_the_class_search() -> None:
    from summarizer.extract import duty

    rnd = random.Random(67)
    pieces = ["（", "(", "）", ")", "责任单位：", "牵头单位:", "市经信局", "区财政局", "牵头", "负责实施", "，", "。", "\n",
              " ", "推进", "、"]
    texts = _texts(rnd, pieces, 3000, 0, 40)
    assert _same_in_windows(rnd, texts, _find_notes_by_class_search, duty.find_notes) > 3000


def test_footer_words_found_by_substring_tests_as_by_the_footer_pattern() -> None:
    old = re.compile(r"(copyright|版权所有|all rights reserved|icp备|icp证|公网安备|增值电信业务经营许可证"
                     r"|违法和不良信息举报|主办单位[:：]|承办单位[:：]|技术支持[:：]|网站标识码)")
    rnd = random.Random(71)
    pieces = ["copy", "right", "版权", "所有", "icp", "备", "证", "主办单位", "承办单位", "技术支持", ":", "：", "网站标识码",
              "all rights reserved", "中", " ", "\n"]
    hits = 0
    for _ in range(4000):
        t = "".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 12)))
        want = old.search(t) is not None
        assert (noise._FOOTER_RE.search(t) is not None) == want == any(w in t for w in noise._FOOTER_WORDS), t
        hits += want
    assert 500 < hits < 3500


def test_line_delete_cuts_text_and_offsets_as_a_character_filter() -> None:
    from summarizer.ingest import clean

    rnd = random.Random(73)
    for _ in range(3000):
        n = rnd.randrange(0, 30)
        text = "".join(rnd.choice("中文ab(yè)") for _ in range(n))
        offs = sorted(rnd.sample(range(1000), n))
        cuts = sorted(rnd.choices(range(n + 1), k=2 * rnd.randrange(0, n // 2 + 1)))  # adjacent and empty spans too
        spans = list(zip(cuts[::2], cuts[1::2]))
        dropped = {i for a, b in spans for i in range(a, b)}
        line = clean._Line(text, list(offs))
        line.delete(spans)
        assert line.text == "".join(c for i, c in enumerate(text) if i not in dropped), (text, spans)
        assert line.offs == [o for i, o in enumerate(offs) if i not in dropped], (text, spans)


def test_last_part_after_a_separator_equals_the_last_part_of_a_split() -> None:
    from summarizer.extract import goals

    rnd = random.Random(79)
    for _ in range(4000):
        t = "".join(rnd.choice("中文，,：:；a") for _ in range(rnd.randrange(0, 25)))
        for seps in ("，,", "，,：:"):
            assert goals._last_part(t, seps) == re.split(f"[{seps}]", t)[-1], (t, seps)


def test_end_anchored_patterns_searched_in_the_tail_equal_the_whole_search() -> None:
    from summarizer.extract import goals

    rnd = random.Random(83)
    pieces = ["提高", "提升", "增长", "了", "约", "大约", "近", "节约", "等", "在", "为", "中", "\n", " ", "，"]
    hits = 0
    for _ in range(4000):
        t = "".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 12)))
        for rx, width in ((goals._GROW_END_RE, 3), (goals._ABOUT_END_RE, 2), (goals._SCOPE_COUNT_BEFORE, 1)):
            want = rx.search(t)
            got = goals._at_end(rx, t, width)
            assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups())), (t, rx.pattern)
            hits += want is not None
    assert hits > 1500
