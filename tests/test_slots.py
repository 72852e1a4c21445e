"""The budget of requests in flight is held per HTTP request (summarizer/backends/transport.py):
taken before a request is sent, given back when its response is closed or the request fails,
and free while this process prepares a request or validates an answer."""

from __future__ import annotations

import threading

import httpx2
import pytest
from openai_stub import StubServer, ok
from pydantic import BaseModel, ValidationInfo, model_validator

from summarizer.backends import get_backend
from summarizer.backends.transport import Cancelled, Guard, guarded_client


@pytest.fixture
def stub():
    with StubServer() as s:
        yield s


def free(guard: Guard) -> bool:
    """Is a slot free now? (takes it and gives it back)"""
    assert guard._slots is not None
    if guard._slots.acquire(blocking=False):
        guard._slots.release()
        return True
    return False


def test_a_slot_is_held_until_the_response_is_closed(stub):
    stub.script(ok("a"))
    guard = Guard(5.0, 1_000_000, in_flight=1)
    with guarded_client(guard, 5.0) as client:
        assert free(guard)
        with client.stream("POST", f"{stub.base_url}/chat/completions", json={"model": "m"}) as response:
            assert response.status_code == 200
            assert not free(guard)  # headers read, body not yet: still at the server's side
            response.read()
        assert free(guard)


def test_a_failed_request_gives_its_slot_back():
    guard = Guard(2.0, 1_000_000, in_flight=1)
    with guarded_client(guard, 2.0) as client:
        with pytest.raises(httpx2.ConnectError):
            client.post("http://127.0.0.1:9/v1/chat/completions", json={})  # nothing listens on port 9
        assert free(guard)


def test_waiting_for_a_slot_stops_when_the_run_is_cancelled():
    guard = Guard(2.0, 1_000_000, in_flight=1)
    release = guard.take_slot()
    guard.cancel.set()
    with pytest.raises(Cancelled):
        guard.take_slot()
    release()
    release()  # a second release is harmless: the budget stays one
    assert guard._slots is not None
    assert guard._slots.acquire(blocking=False) and not guard._slots.acquire(blocking=False)


def test_validating_an_answer_does_not_hold_a_slot(stub):
    """With one slot, a second call is answered while the first call's answer is being validated
    (held around the whole call, the slot kept the second waiting until the first returned)."""
    a_validating, b_answered = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    class Slow(BaseModel):
        g: list[int]

        @model_validator(mode="after")
        def _wait_for_b(self, info: ValidationInfo) -> Slow:
            a_validating.set()
            seen["b answered meanwhile"] = b_answered.wait(10)  # a guard against a hang, not a timing
            return self

    class Quick(BaseModel):
        g: list[int]

    stub.script(ok({"g": [1]}), ok({"g": [2]}))
    b = get_backend("openai", base_url=stub.base_url, model="stub-model", jobs=1, timeout=5, max_attempts=1)
    client = b._ensure_client()
    hooks, _ = b.usage_hooks()
    messages = [{"role": "user", "content": "x"}]
    results: dict[str, object] = {}

    def call(name: str, model: type[BaseModel]) -> None:
        results[name] = b.guarded_create(client, messages, model, max_retries=0, context={}, hooks=hooks,
                                         max_tokens=16)[0]

    first = threading.Thread(target=call, args=("a", Slow))
    first.start()
    assert a_validating.wait(10)
    call("b", Quick)
    b_answered.set()
    first.join(10)
    assert seen == {"b answered meanwhile": True}
    assert results["a"].g == [1] and results["b"].g == [2]  # type: ignore[attr-defined]
    assert stub.calls == 2
