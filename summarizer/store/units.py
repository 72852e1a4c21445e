"""One name per responsible unit: raw spellings -> canonical unit, level and kind.

Responsibilities keep the unit exactly as the text names it. Two derived tables
follow them: `unit_mentions` (one row per responsibility, resolved to a canonical
name) and `units` (one row per canonical unit over each document's latest result).
A result's mentions are built with its other rows (`mention_rows`, in the worker
that read it) and written in the same transaction; `refresh_units(db, changed)` then
sets the `latest` flags and re-tallies the units those results touch. A run into a
database with no results counts its mentions as it commits them (`Tally`), and its
end writes the units from that count.
`refresh_units(db)` rebuilds both tables from scratch in one transaction, so calling
it again is harmless and it reflects the current alias table.

The rules, in order (`resolve`):

1. Normalise: NFKC (full-width brackets -> ASCII) and no whitespace.
2. A group (各县(市、区), 相关县(市、区), 各镇街, 市直开发区(新区)) is its own unit,
   kept as written: it names many bodies, never one of them.
3. A parenthesised suffix that names a body is an alias, not part of the name:
   区经信局(金融办) -> 区经信局, note 金融办.
4. A place named by the document's issuers becomes its level word:
   滨海新区规建局 in a 滨海新区 document -> 新区规建局.
5. A level prefix (省 市 区 县 新区, and 市委 区委 县委) is split off; the rest is
   looked up in the alias table (data/unit_aliases.csv, level-free stems:
   发展改革委 -> 发改委), so 市发展改革委 and 市发改委 are one unit.
6. A department-like name without a prefix inherits the document's level:
   科技局 in a 市 document -> 市科技局. The document's level is its issuers' (the one
   most used by its units when issuers differ), else the majority prefix of its units.
7. A place (上虞市, 绍兴县, 袍江新区) is a unit of kind "place"; anything else
   (人民银行, 黄酒集团, a fragment like 二局) is kept as written, kind "other".

Bodies that were renamed or merged by a reorganisation (环保局 vs 生态环境局,
经贸委 vs 经信委 vs 经信局, 发改委 vs 发改局) stay apart on purpose: the alias
table only joins spellings of one official name.
"""

from __future__ import annotations

import csv
import functools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from itertools import groupby
from operator import itemgetter
from typing import Any

import sqlite_utils

from summarizer.store import db as store

LEVELS = ("新区", "省", "市", "区", "县")  # longest first where one contains another
_PARTY = ("市委", "区委", "县委", "省委")
_ORGAN = re.compile(
    r"(局|委|委员会|办|办公室|中心|大队|支队|站|所|院|联|组|处|科|部|厅|署|会)$"
)
_GROUP = re.compile(r"^(各|相关|有关|其他|其余|市直|区直|县直)|\((县、)?市、区\)|\(区、县\)")
_PLACE = re.compile(r"^.{2,}?(新区|新城|开发区|园区|街道|市|县|区|镇|乡)(管委会|管理委员会|人民政府|政府)?$")
_PLACE_LEVEL = {"新区": "新区", "区": "区", "县": "县", "镇": "镇", "乡": "镇", "街道": "镇"}
# Names that start with a level character without being prefixed by it.
_NOT_PREFIX = ("市场", "区域", "县域", "市民", "区块")


@dataclass(frozen=True)
class UnitName:
    """A raw unit resolved: the canonical name, its level, and how it was decided."""

    canonical: str
    level: str | None
    kind: str  # body | group | place | other
    note: str | None = None  # a parenthesised alias: 区经信局(金融办) -> 金融办
    level_source: str | None = None  # name | issuer | document | None


@functools.cache
def alias_table() -> dict[str, str]:
    """Level-free alias -> canonical stem, from the shipped CSV."""
    text = resources.files("summarizer.data").joinpath("unit_aliases.csv").read_text("utf-8")
    table: dict[str, str] = {}
    for row in csv.DictReader(text.splitlines()):
        alias, canonical = _norm(row["alias"]), _norm(row["canonical"])
        if table.get(alias, canonical) != canonical:
            raise ValueError(f"unit_aliases.csv: {alias} maps to both {table[alias]} and {canonical}")
        table[alias] = canonical
        table.setdefault(canonical, canonical)
    return table


_SPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=65536)  # unit names repeat across responsibilities and documents
def _norm(name: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", name or ""))


@functools.lru_cache(maxsize=65536)
def level_of(name: str) -> str | None:
    """The level a name's prefix states (市科技局 -> 市, 新区经发局 -> 新区), else None."""
    return _split_prefix(_norm(name))[0]


def _split_prefix(name: str) -> tuple[str | None, str, str]:
    """(level, prefix as written, rest). 市场监管局 has no prefix; 市市场监管局 has."""
    if name in alias_table() or name.startswith(_NOT_PREFIX):
        return None, "", name
    for party in _PARTY:
        if name.startswith(party) and len(name) > len(party):
            return party[0], party, name[len(party):]
    for level in LEVELS:
        if name.startswith(level) and len(name) > len(level):
            return level, level, name[len(level):]
    return None, "", name


def issuer_level(issuer: str) -> str | None:
    """绍兴市越城区人民政府 -> 区, 绍兴滨海新区管理委员会 -> 新区, 嘉兴市人民政府 -> 市."""
    found = [m.group(1) for m in re.finditer(r"(新区|省|市|区|县)", _norm(issuer))]
    return found[-1] if found else None


def issuer_places(issuers: Iterable[str]) -> dict[str, str]:
    """Place names the issuers contain -> their level word.

    绍兴市越城区人民政府 gives 绍兴市 -> 市, 绍兴市越城区 and 越城区 -> 区; 绍兴滨海新区管理
    委员会 gives 绍兴滨海新区 and 滨海新区 -> 新区 (every tail of two or more characters).
    """
    places: dict[str, str] = {}
    for issuer in issuers:
        text = _norm(issuer)
        seg_start = 0
        for m in re.finditer(r"(新区|省|市|区|县)", text):
            segment = text[seg_start:m.start()]
            for i in range(len(segment) - 1):  # tails of >= 2 characters
                places.setdefault(segment[i:] + m.group(1), m.group(1))
            if m.start() > 1:
                places.setdefault(text[:m.end()], m.group(1))
            seg_start = m.end()
    return places


def document_level(issuers: Iterable[str], raw_units: Iterable[str]) -> str | None:
    """A document's level: its issuers', else the majority level prefix of its units."""
    issuers = list(issuers)
    prefixes = Counter(
        lvl for u in raw_units
        if not _GROUP.search(_norm(u)) and (lvl := level_of(u)) is not None
    )
    levels = [lvl for i in issuers if (lvl := issuer_level(i))]
    if levels:
        # Joint issuers at different levels: the one the units use most, else the first.
        return max(dict.fromkeys(levels), key=lambda lvl: (prefixes[lvl], -levels.index(lvl)))
    if prefixes:
        return max(prefixes, key=lambda lvl: (prefixes[lvl], lvl == "市"))
    return None


_GROUP_LEVEL_RE = re.compile(r"(新区|省|市|区|县|镇|乡|街)")
_NOTED_RE = re.compile(r"(.+?)\((.+)\)")


def resolve(raw: str, doc_level: str | None = None, places: dict[str, str] | None = None) -> UnitName:
    """Resolve one raw unit name; see the module docstring for the rules."""
    name = _norm(raw)
    if not name:
        return UnitName(raw, None, "other")
    if _GROUP.search(name):
        m = _GROUP_LEVEL_RE.search(name)
        level = _PLACE_LEVEL.get(m.group(1), m.group(1)) if m else None
        return UnitName(name, "镇" if level == "街" else level, "group", None, "name" if level else None)

    note = None
    m = _NOTED_RE.fullmatch(name)
    if m and _ORGAN.search(m.group(2)):
        name, note = m.group(1), m.group(2)

    level_source = "name"
    for place in sorted(places or {}, key=len, reverse=True):
        rest = name[len(place):]
        if name.startswith(place) and rest and _ORGAN.search(rest):
            name, level_source = (places or {})[place] + rest, "issuer"
            break

    level, prefix, stem = _split_prefix(name)
    aliases = alias_table()
    if level is None and stem not in aliases and (m := _PLACE.match(stem)):
        word = m.group(1)
        if word == "市":
            plevel: str | None = {"省": "市", "市": "县"}.get(doc_level or "", "市")
        else:
            plevel = _PLACE_LEVEL.get(word)
        return UnitName(stem, plevel, "place", note, "name" if plevel else None)
    stem = aliases.get(stem, stem)
    known = stem in aliases
    department = known or (len(stem) >= 3 and bool(_ORGAN.search(stem)))
    if not department:
        return UnitName(prefix + stem, level, "other", note, level_source if level else None)
    if level is None and doc_level:
        return UnitName(doc_level + stem, doc_level, "body", note, "document")
    return UnitName(prefix + stem, level, "body", note, level_source if level else None)


# ---- the derived tables ---------------------------------------------------------

UNITS_COLUMNS = {"canonical": str, "level": str, "kind": str, "mentions": int, "documents": str,
                 "aliases": str, "notes": str, "roles": str}
MENTIONS_COLUMNS = {"responsibility_id": str, "canonical": str, "level": str, "kind": str,
                    "raw": str, "note": str, "level_source": str, "role": str, "measure_id": str,
                    "result_id": str, "doc_id": str, "latest": int}


def ensure_tables(db: sqlite_utils.Database) -> bool:
    """Create `units` and `unit_mentions`, or bring older versions to this shape.

    Returns True when a table was created or reshaped (its rows must be rebuilt)."""
    made = False
    for name, cols, pk in (("units", UNITS_COLUMNS, "canonical"),
                           ("unit_mentions", MENTIONS_COLUMNS, "responsibility_id")):
        table = db.table(name)
        if not table.exists() or {c.name: c.type for c in table.columns} != {
            k: {str: "TEXT", int: "INTEGER"}[v] for k, v in cols.items()
        } or table.pks != [pk]:
            table.create(cols, pk=pk, transform=True)
            made = True
    db.table("unit_mentions").create_index(["canonical"], if_not_exists=True)
    db.table("unit_mentions").create_index(["result_id"], if_not_exists=True)
    db.table("unit_mentions").create_index(["doc_id"], if_not_exists=True)
    return made


def _latest_result_ids(db: sqlite_utils.Database) -> set[str]:
    return {r["id"] for r in db.query(
        "select id from results where rowid in (select max(rowid) from results group by doc_id)")}


def refresh_units(db: sqlite_utils.Database, changed: Iterable[str] | None = None,
                  tally: Tally | None = None) -> dict[str, int]:
    """Bring `unit_mentions` and `units` up to date with the stored responsibilities.

    `changed` (result ids a run wrote): only those results are resolved, the
    documents they belong to get their `latest` flags set again, and only the units
    those documents mention (before or after) are re-tallied: a run's cost follows
    the documents it wrote, not the database. The rows are the ones a full rebuild
    writes (`Tally`). Without `changed`, or when the tables do not match the
    responsibilities outside `changed` (a database from an older version, a merge),
    everything is rebuilt from scratch.
    `tally`: the run's own mentions, counted as it wrote them into a database that had no
    results; used as the units' tally when the database holds exactly those (`_only`).
    Idempotent; one transaction. Returns {"units": n, "mentions": n}.
    """
    rebuilt = ensure_tables(db)
    with store.write_lock(db):  # IMMEDIATE: another run may be writing this database
        if changed is not None and not rebuilt:
            changed = set(changed)
            if tally is not None and _only(db, changed, tally):
                db.execute("delete from units")
                _insert(db, "units", tally.rows())
                return {"units": len(tally.units), "mentions": tally.mentions}
            if _incremental(db, changed):
                return {"units": db.table("units").count, "mentions": db.table("unit_mentions").count}
        return _rebuild(db)


def _only(db: sqlite_utils.Database, changed: set[str], tally: Tally) -> bool:
    """Whether the stored results are exactly `changed`, one per document, and the stored
    mentions exactly the tally's: then every mention is its document's latest and the
    tally counts all of them. (Counts, under the write lock: another run that wrote this
    database meanwhile makes them differ.)"""
    results, docs = db.conn.execute("select count(*), count(distinct doc_id) from results").fetchone()
    if not results == docs == len(changed):
        return False
    return bool(db.conn.execute(
        "select (select count(*) from unit_mentions) = ? and (select count(*) from responsibilities) = ?",
        [tally.mentions, tally.mentions]).fetchone()[0])


def _mentions_of(db: sqlite_utils.Database, where: str, params: list[Any],
                 latest: set[str]) -> Iterator[dict[str, Any]]:
    """Resolved mentions of the responsibilities `where` selects, one result at a time."""
    rids = [r[0] for r in db.conn.execute(f"select distinct result_id from responsibilities where {where}", params)]
    issuers = {}
    for i in range(0, len(rids), 500):
        part = rids[i:i + 500]
        issuers.update({r[0]: json.loads(r[1] or "[]") for r in db.conn.execute(
            f"select result_id, issuers from plans where result_id in ({', '.join('?' * len(part))})", part)})
    cur = db.conn.execute("select id, measure_id, result_id, doc_id, unit, role from responsibilities "
                          f"where {where} order by result_id, measure_id, id", params)
    cols = [d[0] for d in cur.description]
    for rid, group in groupby((dict(zip(cols, row)) for row in cur), key=itemgetter("result_id")):
        yield from mention_rows(rid, list(group), issuers.get(rid, []), rid in latest)


def mention_rows(result_id: str, responsibilities: list[dict[str, Any]], issuers: list[str],
                 latest: bool = True) -> list[dict[str, Any]]:
    """The `unit_mentions` rows of one result: its responsibility rows (id, measure_id,
    doc_id, unit, role; in measure and sequence order) resolved against its issuers.

    Needs nothing but the result, so a worker process builds them with the result's
    other rows (`store.result_rows`) and a run leaves only the unit tallies to the end.
    """
    level = document_level(issuers, (r["unit"] for r in responsibilities))
    places = issuer_places(issuers)
    resolved: dict[str, UnitName] = {}  # a document names its units many times
    rows = []
    for r in responsibilities:
        u = resolved.get(r["unit"])
        if u is None:
            u = resolved[r["unit"]] = resolve(r["unit"], level, places)
        rows.append({"responsibility_id": r["id"], "canonical": u.canonical, "level": u.level,
                     "kind": u.kind, "raw": r["unit"], "note": u.note, "level_source": u.level_source,
                     "role": r["role"], "measure_id": r["measure_id"], "result_id": result_id,
                     "doc_id": r["doc_id"], "latest": int(latest)})
    return rows


def _insert(db: sqlite_utils.Database, table: str, rows: Iterable[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 1000:
            store.insert_rows(db, table, batch)
            batch = []
    store.insert_rows(db, table, batch)


def _rebuild(db: sqlite_utils.Database) -> dict[str, int]:
    """Every mention and unit from scratch. Streamed: mentions are computed one result at a
    time and inserted in batches, so memory follows the units table, not the database."""
    latest = _latest_result_ids(db)
    tally = Tally()
    count = 0

    def mentions() -> Iterator[dict[str, Any]]:
        nonlocal count
        for m in _mentions_of(db, "1 = 1", [], latest):
            count += 1
            if m["latest"]:
                tally.add_rows((m,))
            yield m

    db.execute("delete from unit_mentions")
    db.execute("delete from units")
    _insert(db, "unit_mentions", mentions())
    unit_rows = tally.rows()
    _insert(db, "units", unit_rows)
    return {"units": len(unit_rows), "mentions": count}


def _incremental(db: sqlite_utils.Database, changed: set[str]) -> bool:
    """Update the derived tables for the `changed` results; False if they need a rebuild."""
    conn = db.conn
    conn.execute("create temp table if not exists _changed_results (id text primary key)")
    conn.execute("delete from _changed_results")
    conn.executemany("insert or ignore into _changed_results values (?)", [(r,) for r in changed])
    outside = "result_id not in (select id from _changed_results)"
    if (conn.execute(f"select count(*) from unit_mentions where {outside}").fetchone()[0]
            != conn.execute(f"select count(*) from responsibilities where {outside}").fetchone()[0]):
        return False  # the tables lag behind the responsibilities: rebuild
    conn.execute("create temp table if not exists _changed_docs (id text primary key)")
    conn.execute("delete from _changed_docs")
    conn.execute("insert or ignore into _changed_docs select doc_id from results "
                 "where id in (select id from _changed_results)")
    in_docs = "doc_id in (select id from _changed_docs)"
    latest = {r[0] for r in conn.execute(
        f"select id from results where rowid in (select max(rowid) from results where {in_docs} group by doc_id)")}
    # Units whose tally counted a changed document, and units its mentions name now.
    affected = {r[0] for r in conn.execute(
        "select canonical from units where exists (select 1 from json_each(units.documents) "
        "where json_each.value in (select id from _changed_docs))")}
    mine = "result_id in (select id from _changed_results)"
    if (conn.execute(f"select count(*) from unit_mentions where {mine}").fetchone()[0]
            != conn.execute(f"select count(*) from responsibilities where {mine}").fetchone()[0]):
        # Rows written without their mentions (`result_rows` writes them): resolve them here.
        conn.execute(f"delete from unit_mentions where {mine}")
        _insert(db, "unit_mentions", _mentions_of(db, mine, [], latest))
    # The changed documents' mentions, read once: the units they name, and their results' latest flags.
    named = conn.execute(f"select distinct result_id, canonical from unit_mentions where {in_docs}").fetchall()
    affected.update(canonical for _, canonical in named)
    conn.executemany("update unit_mentions set latest = ? where result_id = ? and latest != ?",
                     [(flag, rid, flag) for rid in dict.fromkeys(rid for rid, _ in named)
                      for flag in (int(rid in latest),)])
    # Re-tally the affected units from their latest mentions (in any order: `Tally`).
    conn.execute("create temp table if not exists _affected_units (canonical text primary key)")
    conn.execute("delete from _affected_units")
    conn.executemany("insert or ignore into _affected_units values (?)", [(c,) for c in affected])
    tally = Tally()
    cols = f"select {', '.join(TALLY_COLUMNS)} from unit_mentions where latest = 1"
    if len(affected) * 2 >= conn.execute("select count(*) from units").fetchone()[0]:
        # Most units (all, in a new database): one scan, the others' tallies dropped after (a
        # per-row `in` test cost more than the scan); else only the affected units' mentions.
        tally.add(conn.execute(cols))
        tally.keep(affected)
    else:
        tally.add(conn.execute(f"{cols} and canonical in (select canonical from _affected_units)"))
    conn.execute("delete from units where canonical in (select canonical from _affected_units)")
    _insert(db, "units", tally.rows())
    return True


# The columns a tally reads, in `Tally.add`'s order: a mention's values, then its key.
TALLY_COLUMNS = ("canonical", "level", "kind", "raw", "note", "role", "doc_id",
                 "result_id", "measure_id", "responsibility_id")
_tally_fields = itemgetter(*TALLY_COLUMNS)


class Tally:
    """Latest mentions counted into their units, in any order.

    A unit's kind, and its level when two levels tie, are those of its first mention in
    (result id, measure id, responsibility id) order: each keeps the smallest such key it
    has seen, so the rows do not depend on the order mentions arrive in. A rebuild can
    then read mentions without sorting them, and a run can count each document's
    mentions as it writes them (`mention_rows` output, via `add_rows`) instead of reading
    them all back at its end (386,000 rows, about 3 s, for 10,000 documents).
    """

    __slots__ = ("mentions", "units")

    def __init__(self) -> None:
        self.units: dict[str, dict[str, Any]] = {}
        self.mentions = 0

    def add(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Count mentions given as `TALLY_COLUMNS` tuples (plain dicts and one loop: it runs
        once per mention, 386,000 times for 10,000 documents)."""
        units = self.units
        get = units.get
        n = 0
        for canonical, level, kind, raw, note, role, doc_id, rid, mid, resp in rows:
            n += 1
            key = (rid, mid, resp)
            acc = get(canonical)
            if acc is None:
                acc = units[canonical] = {"first": key, "kind": kind, "levels": {}, "docs": set(),
                                          "aliases": {}, "notes": set(), "roles": {}}
            elif key < acc["first"]:
                acc["first"], acc["kind"] = key, kind
            levels, aliases, roles = acc["levels"], acc["aliases"], acc["roles"]
            seen = levels.get(level)
            if seen is None:
                levels[level] = [1, key]
            else:
                seen[0] += 1
                if key < seen[1]:
                    seen[1] = key
            acc["docs"].add(doc_id)
            aliases[raw] = aliases.get(raw, 0) + 1
            roles[role] = roles.get(role, 0) + 1
            if note:
                acc["notes"].add(note)
        self.mentions += n

    def add_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        """Count `unit_mentions` rows (dicts) that are their documents' latest."""
        self.add(map(_tally_fields, rows))

    def keep(self, names: set[str]) -> None:
        """Forget every unit but these."""
        self.units = {name: u for name, u in self.units.items() if name in names}

    def rows(self) -> list[dict[str, Any]]:
        """The `units` rows, by canonical name."""
        return [
            {"canonical": name,
             "level": min(u["levels"].items(), key=lambda lv: (-lv[1][0], lv[1][1]))[0], "kind": u["kind"],
             "mentions": sum(u["aliases"].values()), "documents": _json(sorted(u["docs"])),
             "aliases": _json([a for a, _ in sorted(u["aliases"].items(), key=lambda x: (-x[1], x[0]))]),
             "notes": _json(sorted(u["notes"])), "roles": _json(dict(sorted(u["roles"].items())))}
            for name, u in sorted(self.units.items())
        ]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def list_units(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Rows for `summarizer units`: most-mentioned first, JSON columns decoded."""
    if not db.table("units").exists():
        refresh_units(db)
    rows = []
    for r in db.query("select * from units order by mentions desc, canonical"):
        rows.append({**r, **{k: json.loads(r[k] or "[]") for k in ("documents", "aliases", "notes")},
                     "roles": json.loads(r["roles"] or "{}")})
    return rows


def format_units(rows: list[dict[str, Any]]) -> list[str]:
    """Tab-separated lines for the CLI, header first: canonical, level, kind, mentions,
    documents, raw spellings (parenthesised notes after them)."""
    lines = ["canonical\tlevel\tkind\tmentions\tdocuments\traw spellings"]
    for r in rows:
        spellings = "、".join(r["aliases"])
        note = f" ({'、'.join(r['notes'])})" if r["notes"] else ""
        lines.append(f"{r['canonical']}\t{r['level'] or '-'}\t{r['kind']}\t{r['mentions']}\t"
                     f"{len(r['documents'])}\t{spellings}{note}")
    return lines
