"""The rule that calls a surviving mutant equivalent (`make mutate`): only a change of
letter case in a literal of SQL words and schema names, or of a codec name."""

from __future__ import annotations

import pytest

from summarizer.devtools.mutate import kind_of, sql_case_equivalent, sql_names


@pytest.fixture(scope="module")
def names() -> frozenset[str]:
    return sql_names()


@pytest.mark.parametrize("removed,added,equivalent", [
    ('db.conn.execute("PRAGMA busy_timeout = 30000")', 'db.conn.execute("PRAGMA BUSY_TIMEOUT = 30000")', True),
    ('"select doc_id, id from results where rowid in "', '"SELECT DOC_ID, ID FROM RESULTS WHERE ROWID IN "', True),
    ('{"id": doc_id, "path": path}', '{"id": doc_id, "PATH": path}', True),
    ('self.db.table(TABLE).upsert(row, pk="request_hash")', 'self.db.table(TABLE).upsert(row, pk="REQUEST_HASH")', True),
    ('payload.encode("utf-8")', 'payload.encode("UTF-8")', True),
    ('mids = [_id(rid, "m", i) for i in x]', 'mids = [_id(rid, "M", i) for i in x]', False),   # an id salt, not SQL
    ('dropped=res["dropped"] or 0', 'dropped=res["DROPPED"] or 0', False),                     # a Python dict key
    ('x.get("faults")', 'x.get("FAULTS")', False),
    ('model_dump(mode="json")', 'model_dump(mode="JSON")', False),                             # not a schema name
    ('rows_where(order_by="seq")', 'rows_where(order_by=None)', False),                        # not a case change
])
def test_only_case_changes_of_sql_names_are_equivalent(removed: str, added: str, equivalent: bool,
                                                       names: frozenset[str]) -> None:
    assert sql_case_equivalent(removed, added, names) is equivalent
    assert (kind_of(removed, added, names) == "equivalent: SQL name case") is equivalent


def test_outside_the_store_modules_no_mutant_is_called_equivalent() -> None:
    assert kind_of('"PRAGMA busy_timeout"', '"PRAGMA BUSY_TIMEOUT"') == "case-changed string"
