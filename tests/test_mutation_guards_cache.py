"""The model-call cache: what a key depends on, what a row keeps, failures stay failures.

Written for issue 14: a cache key without the model and prompt version, and a failed
chunk cached as ok, both passed the suite. A stale key serves one model's answers to
another; a failure cached as ok turns a fallback to the rules into an empty answer
on every later run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from openai_stub import StubServer, ok

from summarizer.backends import get_backend
from summarizer.backends.llm_cache import CallCache, request_hash
from summarizer.pipeline import prepare

MESSAGES = [{"role": "system", "content": "s"}, {"role": "user", "content": "到2026年，新增企业20家。"}]
TEXT = "到2025年，全县数字经济增加值突破300亿元，规上软件企业超过80家。\n加强组织领导。\n"


def test_the_key_depends_on_model_prompt_version_mode_and_messages() -> None:
    base = request_hash("m1", "goals.v3", MESSAGES, "json")
    assert base == request_hash("m1", "goals.v3", [dict(m) for m in MESSAGES], "json")
    assert len(base) == 64 and int(base, 16) >= 0
    others = {
        request_hash("m2", "goals.v3", MESSAGES, "json"),
        request_hash("m1", "goals.v4", MESSAGES, "json"),
        request_hash("m1", "goals.v3", MESSAGES, "tools"),
        request_hash("m1", "goals.v3", [*MESSAGES[:1], {"role": "user", "content": "别的文本"}], "json"),
    }
    assert base not in others and len(others) == 4


def put(cache: CallCache, key: str, status: str = "ok", response: object = None) -> None:
    cache.put(key, model="m1", prompt_version="goals.v3", prompt_tokens=10, completion_tokens=5,
              latency_s=0.12345, attempts=2, status=status, response=response)


def test_a_row_keeps_the_answer_and_its_status(tmp_path: Path) -> None:
    cache = CallCache(tmp_path / "r.db")
    assert cache.get("k") is None
    put(cache, "k", "failed", {"g": [], "dropped": 1})
    assert cache.get("k") is None  # a failed call is logged, never served
    put(cache, "k", "ok", {"g": [{"q": "x"}]})
    row = cache.get("k")
    assert (row["status"], row["model"], row["prompt_version"]) == ("ok", "m1", "goals.v3")
    assert (row["prompt_tokens"], row["completion_tokens"], row["attempts"], row["latency_s"]) == (10, 5, 2, 0.123)
    assert cache.get("k")["status"] == "ok" and cache.get("k")["response"] == {"g": [{"q": "x"}]}
    cache.close()
    again = CallCache(tmp_path / "r.db")  # it is on disk: a re-run sees it
    assert again.get("k")["status"] == "ok"
    assert sqlite_utils.Database(tmp_path / "r.db")["llm_calls"].count == 1
    again.close()


def test_an_in_memory_cache_works_without_a_database() -> None:
    cache = CallCache(None)
    put(cache, "k", response={"g": []})
    assert cache.get("k")["response"] == {"g": []}


@pytest.fixture
def stub():
    with StubServer() as s:
        yield s


def backend(stub: StubServer, db: str):  # type: ignore[no-untyped-def]
    return get_backend("openai", db_path=db, base_url=stub.base_url, model="stub-model", timeout=0.5,
                       scope="targets", max_attempts=1, backoff_initial=0.01, backoff_max=0.05, reasks=1)


def test_a_failed_chunk_is_logged_as_failed_and_asked_again(stub: StubServer, tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    doc = prepare("d1", TEXT)[1]
    stub.script(ok("not json"), ok("still not json"))
    first = backend(stub, db).extract(doc)
    rows = list(sqlite_utils.Database(db)["llm_calls"].rows)
    assert [r["status"] for r in rows] == ["failed"]
    calls = stub.calls
    assert first.faults and {g.value for g in first.goals} == {300, 80}  # the rules' reading, degraded
    stub.script(ok("not json"), ok("still not json"))
    second_backend = backend(stub, db)
    second = second_backend.extract(doc)
    assert stub.calls > calls and second_backend.stats.cache_hits == 0  # a failure is asked again
    assert second.faults and {g.value for g in second.goals} == {300, 80}


def test_a_good_answer_is_cached_under_this_model_only(stub: StubServer, tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    doc = prepare("d1", TEXT)[1]
    answer = {"g": [{"q": "数字经济增加值突破300亿元", "i": "数字经济增加值", "v": 300, "m": None, "u": "亿元",
                     "c": "at_least", "y": 2025}]}
    stub.script(ok(answer), ok(answer))
    backend(stub, db).extract(doc)
    other = get_backend("openai", db_path=db, base_url=stub.base_url, model="other-model", timeout=0.5,
                        scope="targets", max_attempts=1, reasks=1)
    other.extract(doc)
    assert stub.calls == 2 and other.stats.cache_hits == 0
    rows = sqlite_utils.Database(db)["llm_calls"].rows
    assert sorted(r["model"] for r in rows) == ["other-model", "stub-model"]


def test_the_key_is_stable_across_versions() -> None:
    """Pinned: a change to how keys are made would silently empty every user's cache (issue 12 changed it
    on purpose: the endpoint is part of the key)."""
    key = request_hash("m1", "goals.v3", [{"role": "user", "content": "到2026年，新增企业20家。", "a": 1}], "json")
    assert key == "d090563d11e10b240ee891b24b120f029f3d98bb3dce1158427996fbdd102eac"


def test_answers_are_stored_readably_with_utc_times(tmp_path: Path) -> None:
    cache = CallCache(tmp_path / "r.db")
    put(cache, "k", response={"g": [{"q": "新增企业20家"}]})
    row = next(sqlite_utils.Database(tmp_path / "r.db")["llm_calls"].rows)
    assert row["response_json"] == '{"g": [{"q": "新增企业20家"}]}'
    assert row["created_at"].endswith("+00:00") and len(row["created_at"]) == 25
    put(cache, "k2", response=None)
    assert cache.get("k2")["response"] is None
    cache.close()


def test_an_in_memory_cache_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    CallCache(None).close()
    assert list(tmp_path.iterdir()) == []
