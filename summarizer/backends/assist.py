"""The model reads what the rules doubt: doubts -> tasks -> precedence merge.

`--scope residual` (default): the rules' result is the backbone; the model is asked
only about the doubts (summarizer/extract/doubts.py), most valuable first, until the
document's prompt-token budget (`token_budget` x cleaned characters) is spent, at most
`max_doubts` per document. Sized for 2 CPU cores.
`--scope full`: the model reads every block the doubt finder can pose a question
about (every goal, every target sentence, every duty sentence, the whole plan header),
with no budget, and the rules verify (the same merge). For a fast server.
`--scope off`: the rules alone.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from summarizer.backends import PreparedDoc
from summarizer.backends.llm import residual_spans, summarize_faults, target_spans
from summarizer.backends.merge import Proposals, merge
from summarizer.backends.rules import RulesBackend
from summarizer.backends.tasks import Query, Task, task_for
from summarizer.backends.tasks.runner import prompt_of, run_task
from summarizer.extract.doubts import Doubt, DoubtKind, find_doubts
from summarizer.models import DocumentResult

_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def estimate_tokens(s: str) -> int:
    """Prompt tokens of a text for a Qwen-style tokenizer (CJK ~0.8 a character)."""
    cjk = len(_CJK.findall(s))
    return int(cjk * 0.8 + (len(s) - cjk) / 3.2) + 1


def rules_result(doc: PreparedDoc) -> DocumentResult:
    """The rules' reading: the backbone the model's answers are merged into (a copy of the
    one the pipeline computed beforehand, if it did)."""
    if doc.rules is not None:
        return doc.rules.model_copy(deep=True)
    return RulesBackend().extract(doc)


def plan_queries(doubts: list[Doubt], text: str, result: DocumentResult, budget: float | None,
                 max_doubts: int) -> list[tuple[Doubt, Task, Query]]:
    """The doubts to ask, by expected value, within the token budget (None: no budget)."""
    chosen: list[tuple[Doubt, Task, Query]] = []
    spent = 0
    for d in doubts:
        if len(chosen) >= max_doubts:
            break
        task = task_for(d.kind)
        q = task.query(d, text, result)
        if q is None:
            continue
        p = prompt_of(task)
        cost = estimate_tokens(p.system) + estimate_tokens(q.data) + 12
        if budget is not None and spent + cost > budget:
            continue
        spent += cost
        chosen.append((d, task, q))
    # Same task back to back: the server reuses the cached system-prompt prefix.
    chosen.sort(key=lambda x: (x[1].name, x[0].start))
    return chosen


def extract_with_model(backend: Any, doc: PreparedDoc) -> DocumentResult:
    s = backend.settings
    text = doc.text
    rules = rules_result(doc)
    if s.scope == "off":
        return rules
    full = s.scope == "full"
    residual = target_spans(text, s.chunk_chars) if full else residual_spans(text)
    doubts = find_doubts(text, doc.outline, rules, residual, full=full)
    budget = None if full else s.token_budget * len(text)
    asks = plan_queries(doubts, text, rules, budget, 10_000 if full else s.max_doubts)
    jobs = max(1, int(s.jobs))
    if jobs > 1 and len(asks) > 1:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            answers = list(pool.map(lambda a: run_task(backend, a[1], a[2]), asks))
    else:
        answers = [run_task(backend, t, q) for _, t, q in asks]
    props = Proposals()
    notes: list[str] = []
    dropped = 0
    for (d, _task, _q), res in zip(asks, answers):
        dropped += res.dropped
        if res.note:
            notes.append(res.note)
        a: Any = res.answer
        if a is None:
            continue
        if d.kind == DoubtKind.plan_field:
            props.plan.append((d.fields, a))
        elif d.kind == DoubtKind.doubtful_goal:
            props.verdicts.update(zip(d.goals, a.k))
        elif d.kind == DoubtKind.goal_year:
            props.years.update({i: y for i, y in zip(d.goals, a.y) if y is not None})
        elif d.kind == DoubtKind.stray_duty and d.measure is not None:
            props.duties.append((d.measure, [(x.u, x.r) for x in a.d]))
        elif d.kind == DoubtKind.target_sentence:
            props.goals.extend(a._grounded)
        elif d.kind in (DoubtKind.table_block, DoubtKind.no_measures):
            props.blocks.append(((d.start, d.end), a))
    with backend._lock:
        backend.stats.dropped += dropped
    rules.notes.append(f"{len(doubts)} doubts, {len(asks)} asked")
    out = merge(text, rules, props)
    out.notes.extend(notes)
    out.faults = summarize_faults([res.fault for res in answers], len(answers))
    out.dropped += dropped
    return out
