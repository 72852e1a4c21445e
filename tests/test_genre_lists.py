"""Prompts, word lists and test sentences come from the genre, not from the documents
the tool is scored on.

A phrase copied from a scored document into a prompt or a rule makes the score on
that document say nothing about the genre (issue 14 found five sample phrases in
the goals prompt and the first line of a sample in the spam list). These checks
run over the samples always and over the development corpus when it is present.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from conftest import DOCS, ROOT

from summarizer.ingest.load import read_document
from summarizer.ingest.noise import is_noise_line, spam_words
from summarizer.ingest.textnorm import norm
from summarizer.pipeline import prepare

CORPUS_DEV = ROOT.parent / "shared" / "corpus-dev"
# A run of Chinese, digits and the marks a target is written with: long enough to be
# a phrase someone copied rather than a word of the genre.
PHRASE_RE = re.compile(r"[\u4e00-\u9fff\d.%％“”]{8,}")


@lru_cache(maxsize=1)
def scored_documents() -> dict[str, tuple[str, str]]:
    """doc_id -> (raw text, cleaned text) of every scored document at hand."""
    paths = sorted(p for p in DOCS.iterdir() if p.is_file())
    if CORPUS_DEV.is_dir():
        paths += sorted(p for p in CORPUS_DEV.iterdir() if p.is_file() and p.suffix != ".md")
    out = {}
    for p in paths:
        raw = read_document(p).text
        out[p.stem] = (raw, prepare(p.stem, raw)[0])
    return out


def copied(phrases: list[str]) -> list[tuple[str, str]]:
    found = []
    for doc_id, (raw, clean) in scored_documents().items():
        hay = norm(raw) + "\n" + norm(clean)
        found += [(p, doc_id) for p in phrases if norm(p) in hay]
    return found


def test_the_development_corpus_is_checked_when_present() -> None:
    if not CORPUS_DEV.is_dir():
        pytest.skip(f"development corpus not found at {CORPUS_DEV}: only the samples are checked")
    assert len(scored_documents()) == 29


@pytest.mark.parametrize("prompt", sorted((ROOT / "prompts").glob("*.md")), ids=lambda p: p.name)
def test_prompt_examples_are_not_copied_from_scored_documents(prompt: Path) -> None:
    phrases = PHRASE_RE.findall(prompt.read_text("utf-8"))
    assert not copied(phrases)


def test_the_goals_prompt_names_what_is_not_a_target_by_example() -> None:
    text = (ROOT / "prompts" / "goals.v3.md").read_text("utf-8")
    examples = re.findall(r"\(([^)]*\d[^)]*)\)", text.split("NOT targets:")[1].split("\n")[0])
    assert len([e for group in examples for e in group.split(", ")]) == 5


def test_spam_words_are_not_phrases_of_scored_documents() -> None:
    assert not copied([w for w in spam_words() if len(w) >= 4])


def test_no_spam_word_is_in_a_line_cleaning_keeps() -> None:
    """A spam word in a kept line would be one step from dropping document text."""
    hits = []
    for doc_id, (_, clean) in scored_documents().items():
        for line in clean.split("\n"):
            low = line.lower()
            hits += [(doc_id, w, line[:40]) for w in spam_words() if w in low and not is_noise_line(line)
                     and (not w.isascii() or re.search(rf"(?<![a-z]){w}(?![a-z])", low))]
    assert not hits


@pytest.mark.parametrize("test_file", [*sorted((ROOT / "tests").glob("test_mutation_guards_*.py")),
                                       *sorted((ROOT / "eval" / "forms" / "docs").glob("*.txt"))],
                         ids=lambda p: p.name)
def test_guard_test_sentences_are_written_for_the_test(test_file: Path) -> None:
    phrases = [p for p in PHRASE_RE.findall(test_file.read_text("utf-8")) if len(p) >= 10]
    assert not copied(phrases)
