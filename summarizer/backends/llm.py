"""The LLM backends `local` and `openai`: one code path, openai client + instructor.

Hybrid by design. The rule parser stays the backbone (plan metadata, measures,
responsibilities, goal candidates); the model reads only the sentences that carry
quantified targets (around `find_goals` candidates and `到YYYY年` scope lines), in
small chunks, and decides the goals there. Every goal it returns is grounded
(verbatim quote located in the cleaned text) and validated as a GroundedGoal inside
the response model, so instructor re-asks with the validation error; an item that
still fails is dropped and counted, never stored.

Transport faults (timeouts, connection errors, 429 with Retry-After, 5xx, output cut
at max_tokens) are retried by tenacity, the only retry policy (the openai client's
own retries are off). Every HTTP request has a whole-request deadline and a size cap
(transport.py); consecutive server failures open a circuit breaker (breaker.py).
A chunk the model could not answer after all that is a *fault*: the rules' reading
stands there and the document is marked degraded with the reason, never plain ok.
Every model request is logged in `llm_calls` (llm_cache.py); only good answers are
served from it again.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import logging
import os
import random
import re
import string
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from pydantic import BaseModel, PrivateAttr, ValidationError, ValidationInfo, model_validator
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from summarizer.backends import CallStats, Identity, PreparedDoc, register
from summarizer.backends.breaker import Breaker
from summarizer.backends.llm_cache import CallCache, request_hash
from summarizer.backends.rules import extract_plan, rules_goals, rules_measures
from summarizer.backends.structured import prepared, validating, validation_context
from summarizer.backends.transport import Cancelled, Guard, ResponseTooLarge, guarded_client
from summarizer.brief.abstract import ModelAbstract
from summarizer.errors import ConfigError
from summarizer.extract.goals import UNITS, find_goals, threshold_in_quote, year_scopes
from summarizer.models import Comparator, DocumentResult, GroundedGoal

PROMPTS_DIR = Path(os.environ.get("SUMMARIZER_PROMPTS_DIR", Path(__file__).resolve().parents[2] / "prompts"))
GOALS_PROMPT = "goals.v3"
MODES = {"json_schema": instructor.Mode.JSON_SCHEMA, "json": instructor.Mode.JSON,
         "tools": instructor.Mode.TOOLS}
YEAR_MIN, YEAR_MAX = 2000, 2100
SCOPES = ("goals", "residual", "full", "off", "targets")
_SENT_END = "。；;！？\n|"


# ---- settings ---------------------------------------------------------------------


@dataclass
class LLMSettings:
    """Everything an LLM backend can be told; unknown keys are ignored."""

    db_path: str | None = None  # results db: the llm_calls cache lives there
    base_url: str | None = None  # openai: else OPENAI_BASE_URL, else api.openai.com
    model: str | None = None  # openai: else OPENAI_MODEL; local: name of the GGUF
    api_key: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    mode: str = "json_schema"  # json_schema | json | tools
    model_path: str | None = None  # local: any GGUF (else SUMMARIZER_MODEL_PATH, else embedded)
    jobs: int = 1  # chunks of one document at once (local: server slots)
    in_flight: int | None = None  # model requests at once over the whole run (default: jobs)
    timeout: float = 120.0  # seconds per HTTP request, whole: connect, first byte and body
    connect_timeout: float = 10.0  # seconds to open the connection (within `timeout`)
    max_attempts: int = 4  # transport attempts per request
    max_total_s: float = 300.0  # give up a request after this long, retries included
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    backoff_jitter: float = 1.0
    retry_after_max: float = 30.0  # a Retry-After up to this is waited; a longer one is a fault
    breaker_failures: int = 5  # consecutive failed requests before the server is given up for the run
    max_response_bytes: int = 4_000_000  # one HTTP response; answers are a few KB
    reasks: int = 2  # instructor re-asks after a validation error
    chunk_chars: int = 900  # data characters per request
    # What the model reads. "goals" (default) = only the clauses with figures the rules
    # could not read; the model adds goals and the rules keep theirs (the path measured to
    # work with the embedded 1.5B model on 2 cores). "residual" = every kind of rule doubt
    # (backends/assist.py: plan header, keep/drop, years, prose duties, blocks) within
    # token_budget prompt tokens per cleaned character; its task answers from the 1.5B
    # model mostly fail validation, so it is opt-in, for stronger models. "full" = every
    # block the doubt finder can ask about (a fast server); "off" = the rules alone;
    # "targets" = goals by model over every target sentence.
    scope: str = "goals"
    # Who writes each document's abstract (summarizer/brief/): "model" asks once per document
    # (from the extracted items; fact-checked, re-asked, else the template); "template" asks
    # nothing. The CLI defaults to model; the library to template, so a scripted server sees
    # only the extraction requests it was scripted for.
    abstract: str = "template"
    token_budget: float = 0.18
    max_doubts: int = 24
    max_tokens: int = 768  # doubled once per truncated answer, up to max_tokens_cap
    max_tokens_cap: int = 3072
    temperature: float = 0.0
    n_ctx: int = 4096  # local: context per slot
    threads: int | None = None  # local: CPU threads (default: all cores)

    @classmethod
    def from_kwargs(cls, **kw: object) -> LLMSettings:
        names = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in kw.items():
            key = key.replace("-", "_")
            if key in names and value is not None:
                values[key] = value
        s = cls(**values)
        s.mode = str(s.mode).lower().replace("-", "_")
        if s.mode not in MODES:
            raise ConfigError(f"unknown mode {s.mode!r}; choose one of {', '.join(MODES)}")
        if s.scope not in SCOPES:
            raise ConfigError(f"unknown scope {s.scope!r}; choose one of {', '.join(SCOPES)}")
        if s.abstract not in ("model", "template"):
            raise ConfigError(f"unknown abstract writer {s.abstract!r}; choose model or template")
        if s.in_flight is not None and int(s.in_flight) < 1:
            raise ConfigError(f"in-flight must be at least 1, not {s.in_flight}")
        for name in ("jobs", "max_attempts", "max_tokens", "max_tokens_cap", "chunk_chars", "breaker_failures",
                     "max_response_bytes", "n_ctx"):
            if int(getattr(s, name)) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be at least 1, not {getattr(s, name)}")
        for name in ("timeout", "connect_timeout", "max_total_s"):
            if not float(getattr(s, name)) > 0:
                raise ConfigError(f"{name.replace('_', '-')} must be more than 0 seconds, not {getattr(s, name)}")
        for name in ("backoff_initial", "backoff_max", "backoff_jitter", "retry_after_max", "temperature"):
            if float(getattr(s, name)) < 0:
                raise ConfigError(f"{name.replace('_', '-')} must not be negative, not {getattr(s, name)}")
        return s


# ---- prompts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    version: str
    system: str
    user: string.Template

    @classmethod
    def load(cls, name: str, directory: Path = PROMPTS_DIR) -> Prompt:
        path = directory / f"{name}.md"
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"prompt template missing: {path}") from exc
        m = re.match(r"version:\s*(\S+)\s*\n", raw)
        if not m:
            raise ConfigError(f"{path}: first line must be 'version: NAME'")
        body = re.sub(r"<!--.*?-->\n?", "", raw[m.end():], flags=re.DOTALL)
        parts = re.split(r"^## (system|user)\s*$\n", body, flags=re.MULTILINE)
        sections = dict(zip(parts[1::2], (p.strip("\n") for p in parts[2::2])))
        if set(sections) != {"system", "user"} or "$text" not in sections["user"]:
            raise ConfigError(f"{path}: needs '## system' and '## user' sections, the user one with $text")
        return cls(m.group(1), sections["system"], string.Template(sections["user"]))

    def messages(self, text: str) -> list[dict[str, str]]:
        # The data sits between <<<DATA and DATA>>>; a document cannot close it early.
        safe = text.replace("DATA>>>", "DATA> > >").replace("<<<DATA", "< < <DATA")
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": self.user.substitute(text=safe)}]


# ---- the response model: grounding happens in its validators ----------------------


class LLMGoal(BaseModel):
    """One target as the model states it (short keys keep the JSON small)."""

    q: str  # verbatim quote
    i: str  # indicator
    v: float  # value
    m: float | None  # value_max (every key required: optional keys make slow grammars)
    u: str | None  # unit
    c: Comparator
    y: int | None  # year


def ground(item: LLMGoal, text: str, spans: list[tuple[int, int]]) -> GroundedGoal:
    """Place the quote in the cleaned text (inside the chunk's spans first) and validate."""
    quote = item.q.strip()
    if not quote:
        raise ValueError("quote is empty")
    start = -1
    for a, b in spans:
        pos = text.find(quote, a, b)
        if pos >= 0:
            start = pos
            break
    if start < 0:
        start = text.find(quote)
    if start < 0:
        raise ValueError(f"quote {quote!r} is not a verbatim span of the text; copy it exactly")
    if item.y is not None and not YEAR_MIN <= item.y <= YEAR_MAX:
        raise ValueError(f"year {item.y} is not plausible for a target")
    unit = item.u.replace("％", "%") if item.u else None
    return GroundedGoal.model_validate(
        {"indicator": item.i.strip() or quote, "value": item.v, "value_max": item.m, "unit": unit,
         "comparator": item.c, "year": item.y, "start": start, "end": start + len(quote),
         "quote": quote},
        context={"text": text},
    )


class ChunkGoals(BaseModel):
    """The model's answer for one chunk; validation grounds every goal."""

    g: list[LLMGoal]
    _grounded: list[GroundedGoal] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _ground_all(self, info: ValidationInfo) -> ChunkGoals:
        ctx = validation_context(info)
        text = ctx.get("text")
        if text is None:
            return self
        errors, out = [], []
        for n, item in enumerate(self.g):
            try:
                out.append(ground(item, text, ctx.get("spans", [])))
            except (ValueError, ValidationError) as exc:
                msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                errors.append(f"g[{n}]: {msg}")
        if errors:
            raise ValueError("; ".join(errors))
        self._grounded = out
        return self


def salvage(raw: str | None, text: str, spans: list[tuple[int, int]]) -> tuple[list[GroundedGoal], int, bool]:
    """The valid items of a final answer that failed as a whole: (goals, dropped, parsed)."""
    try:
        data = json.loads(raw or "")
        items = data.get("g") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ValueError  # valid JSON of another shape is no answer either
    except (ValueError, AttributeError):
        return [], 0, False
    goals, dropped = [], 0
    for obj in items:
        try:
            goals.append(ground(LLMGoal.model_validate(obj), text, spans))
        except (ValueError, ValidationError):
            dropped += 1
    return goals, dropped, True


# ---- chunks: what the model reads ---------------------------------------------------


@dataclass
class Chunk:
    spans: list[tuple[int, int]]  # verbatim pieces of the cleaned text, in order
    text: str  # the pieces joined by newlines: the data sent

    def covers(self, pos: int) -> bool:
        return any(a <= pos < b for a, b in self.spans)


def _sentence(text: str, a: int, b: int) -> tuple[int, int]:
    s = max(text.rfind(ch, 0, a) for ch in _SENT_END) + 1
    ends = [i for i in (text.find(ch, b) for ch in _SENT_END) if i >= 0]
    e = min(ends) + 1 if ends else len(text)
    return s, e


def _merge_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans joined where they touch or overlap; blank ones dropped."""
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if text[a:b].strip()]


def target_spans(text: str, max_piece: int) -> list[tuple[int, int]]:
    """Sentences around goal candidates, plus the year-scope lines that govern them."""
    spans: list[tuple[int, int]] = []
    scopes = year_scopes(text)
    for c in find_goals(text):
        a, b = _sentence(text, c.start, c.end)
        if b - a > max_piece:  # a long list sentence: keep the clauses around the target
            a = max(a, text.rfind("，", a, max(a, c.start - max_piece // 3)) + 1)
            b = min(b, c.end + max_piece // 3)
        spans.append((a, b))
        for s, e, _year in scopes:
            if s <= c.start < e and s < a:
                hs, he = _sentence(text, s, s)
                spans.append((hs, min(he, hs + 80)))
    for s, _e, _year in scopes:
        if any(a <= s < b for a, b in spans):
            continue
        a, b = _sentence(text, s, s)
        if find_goals(text, a, b) or re.search(r"\d", text[a:b].replace(text[s:s + 10], "")):
            spans.append((a, min(b, a + max_piece)))
    spans = sorted((a, b - (text[b - 1] == "\n")) for a, b in spans if b > a)
    return _merge_spans(text, spans)


_UNITS_ALT = "|".join(re.escape(u) for u in UNITS)
_FIGURE_RE = re.compile(rf"(?:最多|最少|不超过|不低于)?“?(\d+(?:\.\d+)?(?:/\d+)?)\s*(?:{_UNITS_ALT}|天|年内)?"
                        r"(以上|以下|以内|左右)?")
_CLAUSE_END = "，,。；;！？\n|"


def residual_spans(text: str, max_piece: int = 120) -> list[tuple[int, int]]:
    """Clauses stating a figure the rules did not turn into a goal.

    A figure is a number with a unit, a bound word, or 最多/不超过 before it; years,
    item numbers, and numbers inside “”/《》 (names, slogans) are not figures.
    """
    covered = [(g.start, g.end) for g in find_goals(text)]
    spans: list[tuple[int, int]] = []
    for m in _FIGURE_RE.finditer(text):
        whole, num = m.group(0), m.group(1)
        if whole.strip("“") == num and not m.group(2):
            continue  # a bare number
        a = m.start(1)
        after = text[m.end(1) : m.end(1) + 2]
        if re.match(r"^\s*(年|月|日|号|届|次会议|G|K|版)", after) or text[a - 1 : a] in ("第", "/"):
            continue
        line_start = text.rfind("\n", 0, a) + 1
        before = text[line_start:a]
        named = before.count("“") > before.count("”") or before.count("《") > before.count("》")
        if named and whole.strip("“").replace(num, "").strip() in ("", "以上", "以下"):
            continue  # “1515”: a slogan; “最多80天” still states a figure
        if re.match(r"^\s*\|?\s*$", text[max(line_start, a - 3) : a]) and re.match(r"^[.．、]", text[m.end(1) :]):
            continue  # an item number
        if any(s <= a < e for s, e in covered):
            continue
        s = max(text.rfind(ch, 0, a) for ch in _CLAUSE_END) + 1
        ends = [i for i in (text.find(ch, m.end()) for ch in _CLAUSE_END) if i >= 0]
        e = min(ends) if ends else len(text)
        s, e = max(s, a - max_piece // 2), min(e, m.end() + max_piece // 2)
        spans.append((s, e))
    spans.sort()
    return _merge_spans(text, spans)


def make_chunks(text: str, chunk_chars: int, scope: str = "targets") -> list[Chunk]:
    chunks: list[Chunk] = []
    cur: list[tuple[int, int]] = []
    size = 0
    spans = residual_spans(text) if scope == "residual" else target_spans(text, chunk_chars)
    for a, b in spans:
        if cur and size + (b - a) > chunk_chars:
            chunks.append(Chunk(cur, "\n".join(text[x:y] for x, y in cur)))
            cur, size = [], 0
        cur.append((a, b))
        size += b - a + 1
    if cur:
        chunks.append(Chunk(cur, "\n".join(text[x:y] for x, y in cur)))
    return chunks


# ---- transport retry ----------------------------------------------------------------


def _cause(exc: BaseException) -> BaseException:
    """The transport error behind instructor's wrapper, if any."""
    seen = exc
    for _ in range(5):
        if isinstance(seen, openai.APIError | IncompleteOutputException):
            return seen
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            break
        seen = nxt
    return exc


def is_transient(exc: BaseException) -> bool:
    if _too_large(exc):
        return False
    c = _cause(exc)
    if isinstance(c, openai.APITimeoutError | openai.APIConnectionError | openai.RateLimitError
                  | openai.InternalServerError | IncompleteOutputException):
        return True
    return (isinstance(c, openai.APIStatusError) and c.status_code in (408, 409, 429)) or (
        isinstance(c, openai.APIStatusError) and c.status_code >= 500)


def retry_after(exc: BaseException) -> float | None:
    c = _cause(exc)
    if isinstance(c, openai.APIStatusError):
        value = c.response.headers.get("retry-after")
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _too_large(exc: BaseException) -> ResponseTooLarge | None:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, ResponseTooLarge):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def server_failed(exc: BaseException) -> bool:
    """The server did not give an answer at all (what the circuit breaker counts)."""
    return _too_large(exc) is not None or isinstance(_cause(exc), openai.APIError)


def describe(exc: BaseException, endpoint: str = "the model server") -> str:
    """One line naming what went wrong and where."""
    big = _too_large(exc)
    if big is not None:
        return f"{big} from {endpoint}"
    c = _cause(exc)
    if isinstance(c, openai.APIStatusError):
        return f"HTTP {c.status_code} from {endpoint}"
    if isinstance(c, openai.APITimeoutError):
        return f"no complete answer from {endpoint} within the deadline"
    if isinstance(c, openai.APIConnectionError):
        return f"cannot connect to {endpoint}"
    if isinstance(c, openai.APIError):
        return f"unreadable answer from {endpoint} ({str(c).splitlines()[0][:120]})"
    if isinstance(c, IncompleteOutputException):
        return f"model output cut off at max_tokens by {endpoint}"
    attempts = getattr(c, "failed_attempts", None)
    if attempts and getattr(attempts[-1], "exception", None) is not None:
        last = attempts[-1].exception
        return f"{type(last).__name__}: {str(last).splitlines()[0][:160]}" if str(last) else type(last).__name__
    return str(c).splitlines()[0][:200] if str(c) else type(c).__name__


def summarize_faults(faults: list[str], total: int) -> list[str]:
    """One line per distinct reason, with how many of the document's model calls it hit."""
    counts: dict[str, int] = {}
    for f in faults:
        if f:
            counts[f] = counts.get(f, 0) + 1
    return [f"{n} of {total} model call{'s' if total != 1 else ''} gave no usable answer: {reason}"
            for reason, n in counts.items()]


# ---- the backend ----------------------------------------------------------------------


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class _Answer:
    goals: list[GroundedGoal] = field(default_factory=list)
    dropped: int = 0
    ok: bool = True  # False: the model gave nothing usable for this chunk
    note: str = ""
    fault: str = ""  # why not (when ok is False)


class LLMBackend:
    """Rules plus the model. By default ("goals") the model reads the clauses with figures
    the rules could not read and adds goals; "residual"/"full" ask it about every kind of
    rule doubt (backends/assist.py); "targets" lets it decide the goals of every target span."""

    kind = "openai"
    rules_first = True  # every scope starts from the rules' reading: the pipeline may compute it beforehand

    def __init__(self, **settings: object) -> None:
        self.settings = LLMSettings.from_kwargs(**settings)
        # instructor logs an ERROR for every answer that stays invalid after its
        # re-asks; we count and report those ourselves (dropped items, notes).
        if not os.environ.get("SUMMARIZER_MODEL_LOG"):
            logging.getLogger("instructor").setLevel(logging.CRITICAL)
        self.prompt = Prompt.load(GOALS_PROMPT)
        self.mode = MODES[self.settings.mode]
        self.stats = CallStats()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._client: Any = None
        self._server: Any = None
        self._cache = CallCache(self.settings.db_path)
        self.model_name = self._configure()
        self.identity = Identity(self.kind, self.model_name, self._prompt_version())
        # One budget of requests in flight for the whole run: documents under --jobs and
        # chunks within a document share it, so --jobs N means N requests, not N squared
        # (and no request waits in a server queue while its deadline runs). The guarded
        # HTTP client holds a slot per request (transport.py), not per structured call.
        self.guard = Guard(self.settings.timeout, self.settings.max_response_bytes,
                           in_flight=self._request_limit())
        self.breaker = Breaker(self.settings.breaker_failures, self.endpoint_label)

    def _prompt_version(self) -> str:
        """What the results depend on: the scope and every prompt it may use (and the abstract's)."""
        version = self._extraction_prompts()
        if self.settings.abstract == "model" and self.settings.scope != "off":
            from summarizer.backends.tasks.abstract import TASK as ABSTRACT

            version += f"+{ABSTRACT.prompt}"
        return version

    def _extraction_prompts(self) -> str:
        if self.settings.scope == "targets":
            return self.prompt.version
        if self.settings.scope == "goals":
            return f"goals:{self.prompt.version}"
        from summarizer.backends.tasks import all_tasks

        return f"{self.settings.scope}:" + "+".join(sorted({t.prompt for t in all_tasks()}))

    @property
    def endpoint_label(self) -> str:
        """Where requests go, for messages."""
        return self.base_url

    @property
    def cache_scope(self) -> str:
        """What besides the request decides the answer: the endpoint (part of the cache key)."""
        return self.base_url.rstrip("/")

    # -- configuration (kind-specific) --
    def _configure(self) -> str:
        s = self.settings
        self.base_url = s.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = s.api_key or os.environ.get(s.api_key_env)
        if not key:
            if not _is_loopback(self.base_url):
                raise ConfigError(
                    f"no API key for {self.base_url}: set {s.api_key_env} (or --api-key-env NAME)"
                )
            key = "no-key"
        self.api_key = key
        model = s.model or os.environ.get("OPENAI_MODEL")
        if not model:
            raise ConfigError("the openai backend needs a model name (--model or OPENAI_MODEL)")
        return model

    def _request_limit(self) -> int:
        return max(1, int(self.settings.in_flight or self.settings.jobs))

    def _ensure_client(self) -> Any:
        with self._lock:
            if self._client is None:
                s = self.settings
                raw = openai.OpenAI(base_url=self._endpoint(), api_key=self.api_key, timeout=s.timeout,
                                    max_retries=0,
                                    http_client=guarded_client(self.guard, s.timeout, s.connect_timeout))
                self._client = instructor.from_openai(raw, mode=self.mode)
            return self._client

    def _endpoint(self) -> str:
        return self.base_url

    @property
    def loaded(self) -> bool:
        """Is the model ready without a start-up (client made; for `local`, its server running)?"""
        return self._client is not None

    def warm_up(self) -> None:
        """Start the model now rather than on the first document (`summarizer serve`)."""
        self._ensure_client()

    def cancel(self) -> None:
        """Stop now (Ctrl-C, SIGTERM): calls in flight and later ones raise Cancelled."""
        self.guard.cancel.set()

    def close(self) -> None:
        self._client = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def extract(self, doc: PreparedDoc) -> DocumentResult:
        if self.settings.scope not in ("targets", "goals"):
            from summarizer.backends.assist import extract_with_model

            return extract_with_model(self, doc)
        text = doc.text
        chunks = make_chunks(text, self.settings.chunk_chars,
                             "residual" if self.settings.scope == "goals" else "targets")
        jobs = max(1, int(self.settings.jobs))
        if jobs > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                answers = list(pool.map(lambda c: self._ask(c, text), chunks))
        else:
            answers = [self._ask(c, text) for c in chunks]

        goals: list[GroundedGoal] = []
        seen: set[tuple[int, int, float]] = set()
        dropped = 0
        notes: list[str] = []
        blind: list[Chunk] = []
        for chunk, ans in zip(chunks, answers):
            dropped += ans.dropped
            if ans.note:
                notes.append(ans.note)
            if not ans.ok:
                blind.append(chunk)
                continue
            for g in ans.goals:
                if (g.start, g.end, g.value) not in seen:
                    seen.add((g.start, g.end, g.value))
                    goals.append(g)
        rule_goals = list(doc.rules.goals) if doc.rules is not None else rules_goals(text, doc.outline)[0]
        if self.settings.scope == "goals":
            # The model read only the clauses the rules left: it adds goals, the rules keep theirs.
            scopes = year_scopes(text)
            added = []
            for g in goals:
                if any(r.start < g.end and g.start < r.end and r.value == g.value for r in rule_goals):
                    continue
                if threshold_in_quote(text, g.start, g.end, g.value):
                    dropped += 1  # the same grammar check the rules apply to their own figures
                    notes.append(f"dropped a model goal whose figure qualifies a noun: {g.quote[:40]}")
                    continue
                year = next((y for s0, e0, y in reversed(scopes) if s0 <= g.start < e0), None)
                added.append(g.model_copy(update={"year": year}) if year is not None else g)
            if added:
                notes.append(f"{len(added)} goals added by the model beyond the rules")
            goals = rule_goals + added
        else:
            # Rule goals only where the model has no view: chunks it could not answer.
            kept_rules = [g for g in rule_goals if not any(c.covers(g.start) for c in chunks if c not in blind)]
            if kept_rules:
                notes.append(f"{len(kept_rules)} goals from rules where the model gave no answer")
            goals.extend(kept_rules)
        goals.sort(key=lambda g: (g.start, g.end))
        with self._lock:
            self.stats.dropped += dropped
        return DocumentResult(
            doc_id=doc.doc_id,
            plan=doc.rules.plan.model_copy(deep=True) if doc.rules is not None else extract_plan(text),
            goals=goals,
            measures=([m.model_copy(deep=True) for m in doc.rules.measures] if doc.rules is not None
                      else rules_measures(doc.outline)),
            dropped=dropped,
            notes=notes,
            faults=summarize_faults([a.fault for a in answers], len(chunks)),
        )

    def ask_abstract(self, text: str, result: DocumentResult) -> ModelAbstract | None:
        """The model's fact-checked abstract of a result; None when this run writes templates.

        One task call (summarizer/backends/tasks/abstract.py) through the task runner: the
        cache, the retry policy, the circuit breaker and the usage counts apply as to any
        task. No usable answer is not a fault of the document: its abstract is the template.
        """
        if self.settings.abstract != "model" or self.settings.scope == "off":
            return None
        from summarizer.backends.tasks.abstract import TASK as ABSTRACT
        from summarizer.backends.tasks.runner import run_task

        query = ABSTRACT.query(None, text, result)
        got = run_task(self, ABSTRACT, query)
        asks = int(query.context.get("asks", 0))
        if got.answer is None:
            problems = query.context.get("problems")
            why = f"the last answer failed: {'; '.join(problems)}" if problems else (got.fault or "no valid answer")
            return ModelAbstract(None, asks, why)
        return ModelAbstract(got.answer.a, asks)  # type: ignore[attr-defined]

    def usage_hooks(self) -> tuple[Hooks, dict[str, int]]:
        """instructor hooks that count this request's calls and tokens (and the run's)."""
        usage = {"calls": 0, "prompt": 0, "completion": 0}
        hooks = Hooks()

        def on_response(response: Any) -> None:
            u = getattr(response, "usage", None)
            with self._lock:
                usage["calls"] += 1
                self.stats.calls += 1
                if u is not None:
                    usage["prompt"] += u.prompt_tokens or 0
                    usage["completion"] += u.completion_tokens or 0
                    self.stats.prompt_tokens += u.prompt_tokens or 0
                    self.stats.completion_tokens += u.completion_tokens or 0

        hooks.on("completion:response", on_response)
        return hooks, usage

    def retrying(self, state: dict[str, int], t0: float) -> Retrying:
        """The one transport retry policy, for goal chunks and model tasks alike: backoff
        with jitter within the request budget, Retry-After up to its cap, no retry once
        the run is cancelled or the breaker is open, more tokens after a cut-off answer."""
        s = self.settings

        def wait(rs: RetryCallState) -> float:
            exc = rs.outcome.exception() if rs.outcome else None
            after = retry_after(exc) if exc else None
            budget = max(0.0, s.max_total_s - (time.monotonic() - t0))
            if after is not None:
                return min(after, s.retry_after_max, budget)
            # Exponential backoff with jitter, written out: tenacity renamed the helper's
            # arguments within 9.x, and the LangExtract peer pins tenacity below 9.2.
            base = min(s.backoff_max, s.backoff_initial * 2 ** (rs.attempt_number - 1))
            return min(base + random.uniform(0, s.backoff_jitter), budget)

        def should_retry(exc: BaseException) -> bool:
            if self.guard.cancel.is_set() or self.breaker.open or not is_transient(exc):
                return False
            cap = state.get("max_tokens_cap")  # a task's own cap: a cut-off answer there is not asked again
            if cap is not None and state["max_tokens"] >= cap and isinstance(_cause(exc), IncompleteOutputException):
                return False
            after = retry_after(exc)
            return after is None or after <= s.retry_after_max  # a longer wait is the server saying no

        def before_sleep(rs: RetryCallState) -> None:
            exc = rs.outcome.exception() if rs.outcome else None
            if exc is not None and isinstance(_cause(exc), IncompleteOutputException):
                state["max_tokens"] = min(state["max_tokens"] * 2, state.get("max_tokens_cap") or s.max_tokens_cap)

        return Retrying(
            stop=stop_after_attempt(s.max_attempts) | stop_after_delay(s.max_total_s),
            wait=wait, retry=retry_if_exception(should_retry), before_sleep=before_sleep,
            reraise=True,
        )

    def _ask(self, chunk: Chunk, text: str) -> _Answer:
        messages = self.prompt.messages(chunk.text)
        key = request_hash(self.model_name, self.prompt.version, messages, self.settings.mode,
                           endpoint=self.cache_scope)
        # Identical requests in flight at once (the same passage in two documents under
        # --jobs) wait for the first one and then read its cached answer: one call.
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            self.guard.check_cancel()
            if self.breaker.open:
                return _Answer(ok=False, fault=f"model not called: {self.breaker.reason}")
            return self._ask_once(chunk, text, messages, key)

    def _ask_once(self, chunk: Chunk, text: str, messages: list[dict[str, str]], key: str) -> _Answer:
        context = {"text": text, "spans": chunk.spans}
        hit = self._cache.get(key)
        if hit is not None:
            with self._lock:
                self.stats.cache_hits += 1
            resp = hit["response"] or {}
            goals, bad, _ = salvage(json.dumps({"g": resp.get("g", [])}), text, chunk.spans)
            return _Answer(goals, bad + int(resp.get("dropped", 0)))

        hooks, usage = self.usage_hooks()
        client = self._ensure_client()
        s = self.settings
        state = {"max_tokens": s.max_tokens, "attempts": 0}
        t0 = time.monotonic()
        retrying = self.retrying(state, t0)
        status, dropped, goals, note, fault = "ok", 0, [], "", ""
        try:
            for attempt in retrying:
                with attempt:
                    state["attempts"] = attempt.retry_state.attempt_number
                    goals, dropped, status, fault = self._call(client, messages, context, hooks, state, chunk, text)
        except Cancelled:
            raise
        except Exception as exc:  # no answer after all attempts
            if self.guard.cancel.is_set():
                raise Cancelled() from exc
            if os.environ.get("SUMMARIZER_RAISE_ERRORS") and not server_failed(exc) and not is_transient(exc):
                raise
            status, goals, dropped = "failed", [], 0
            fault = describe(exc, self.endpoint_label)
            after = retry_after(exc)
            if after is not None and after > s.retry_after_max:
                fault += f" asking to retry after {after:g} s (more than the {s.retry_after_max:g} s cap)"
            n = state["attempts"]
            fault += f" after {n} attempt{'s' if n != 1 else ''}"
        if status == "failed" and not fault:
            fault = "unusable model output"
        if fault:
            note = f"chunk at {chunk.spans[0][0]}: {fault}"
        latency = time.monotonic() - t0
        response: dict[str, Any] = {
            "g": [{"q": g.quote, "i": g.indicator, "v": g.value, "m": g.value_max,
                   "u": g.unit, "c": str(g.comparator), "y": g.year} for g in goals],
            "dropped": dropped}
        if fault:
            response["error"] = fault
        # Failed calls are logged too (status 'failed'), but never served as answers.
        self._cache.put(key, model=self.model_name, prompt_version=self.prompt.version,
                        prompt_tokens=usage["prompt"], completion_tokens=usage["completion"],
                        latency_s=latency, attempts=state["attempts"], status=status, response=response)
        return _Answer(goals, dropped, ok=status != "failed", note=note, fault=fault)

    def guarded_create(self, client: Any, messages: list[dict[str, str]], response_model: Any, *,
                       max_retries: int, context: dict[str, Any], hooks: Hooks,
                       max_tokens: int) -> tuple[Any, str | None, Exception | None]:
        """One structured request (with its re-asks) under the backend's cancel check and circuit breaker;
        each of its HTTP requests holds one of the backend's slots while it is at the server.

        Returns (answer, None, None); or (None, raw text of the last answer, the error) when the
        server answered but the answer stayed invalid after the re-asks (the caller salvages what
        it can). Transport and server faults count against the breaker and raise, for tenacity.
        """
        self.guard.check_cancel()
        response_model = prepared(response_model)  # instructor's wrapper and its schema, made once per model
        try:
            # The validation context goes beside instructor, not through it: instructor renders
            # the messages as Jinja templates when given one (structured.py says why that matters).
            with validating(context):
                answer = client.chat.completions.create(
                    model=self.model_name, messages=messages, response_model=response_model,
                    max_retries=max_retries, hooks=hooks,
                    temperature=self.settings.temperature, max_tokens=max_tokens,
                )
        except InstructorRetryException as exc:
            if server_failed(exc) or is_transient(exc):
                self.breaker.failure(describe(exc, self.endpoint_label))
                raise
            self.breaker.success()  # the server answered; the answer was no good
            return None, _last_raw(exc), exc
        except Exception as exc:
            if server_failed(exc) or is_transient(exc):
                self.breaker.failure(describe(exc, self.endpoint_label))
            raise
        self.breaker.success()
        return answer, None, None

    def _call(self, client: Any, messages: list[dict[str, str]], context: dict[str, Any], hooks: Hooks,
              state: dict[str, int], chunk: Chunk, text: str) -> tuple[list[GroundedGoal], int, str, str]:
        """One attempt: (goals, dropped, status, fault); transport errors raise for tenacity."""
        result, raw, exc = self.guarded_create(client, messages, ChunkGoals, max_retries=self.settings.reasks,
                                               context=context, hooks=hooks, max_tokens=state["max_tokens"])
        if exc is not None:
            # Validation still failing after the re-asks: keep the valid items.
            goals, dropped, parsed = salvage(raw, text, chunk.spans)
            if parsed:
                return goals, dropped, "partial", ""
            return [], 0, "failed", f"unusable model output from {self.endpoint_label} ({describe(exc)})"
        return result._grounded, 0, "ok", ""


def _last_raw(exc: InstructorRetryException) -> str | None:
    """The text (or tool-call arguments) of the last answer instructor gave up on."""
    last = exc.last_completion
    if last is None or not getattr(last, "choices", None):
        return None
    msg = last.choices[0].message
    if not msg.content and getattr(msg, "tool_calls", None):
        return msg.tool_calls[0].function.arguments
    return msg.content


@register("openai")
class OpenAIBackend(LLMBackend):
    """Any OpenAI-compatible endpoint (OpenAI, DeepSeek, DashScope, vLLM, Ollama...)."""

    kind = "openai"

    def __init__(self, **settings: object) -> None:
        super().__init__(**settings)
        # The client now, not on the first call: making it (mostly its TLS context, ~30 ms of CPU)
        # took 0.2-0.3 s there, with every document thread waiting for it while the workers and
        # the other threads held the cores, before the run's first request could go out.
        self._ensure_client()


@register("local")
class LocalBackend(LLMBackend):
    """The embedded GGUF served by xllamacpp on 127.0.0.1, started on first use."""

    kind = "local"

    def _configure(self) -> str:
        from summarizer.backends import localmodel

        self.model_file = localmodel.locate(self.settings.model_path)
        self.api_key = "no-key"
        self.base_url = ""
        return self.settings.model or self.model_file.name

    @property
    def endpoint_label(self) -> str:
        return f"the local model server ({self.model_file.path})"

    def _request_limit(self) -> int:
        from summarizer.backends import localmodel

        return min(super()._request_limit(), localmodel.MAX_SLOTS)

    @property
    def cache_scope(self) -> str:
        # The server's port changes every run; the model file is what decides the answer.
        return f"local:{self.model_file.name}:{self.model_file.size}"

    def _endpoint(self) -> str:
        from summarizer.backends import localmodel

        if self._server is None:
            s = self.settings
            # Each slot holds n_ctx tokens of context in memory: --jobs 1000 must not ask for 1000.
            slots = self._request_limit()
            self._server = localmodel.LocalServer(self.model_file, n_ctx=s.n_ctx, threads=s.threads,
                                                  parallel=slots)
            atexit.register(self.close)
        self.base_url = self._server.base_url
        return self.base_url
