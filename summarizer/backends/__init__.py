"""Backends fill a DocumentResult from a prepared document; looked up by name.

Nothing outside this package asks which backend is running: the pipeline calls
`get_backend(name, settings).extract(doc)` and records `backend.identity`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from summarizer.errors import ConfigError
from summarizer.extract.structure import Outline
from summarizer.models import DocumentResult


@dataclass(frozen=True)
class PreparedDoc:
    """A cleaned document and its outline: what every backend starts from."""

    doc_id: str
    text: str
    outline: Outline
    # The rules' reading, when the pipeline computed it already (in a worker process,
    # for a backend with `rules_first`): model backends start from it instead of
    # reading the rules again in the process that waits for the model.
    rules: DocumentResult | None = None


@dataclass(frozen=True)
class Identity:
    """What a result depends on besides the document: the cache/skip key."""

    backend: str
    model: str = ""
    prompt_version: str = ""


@dataclass
class CallStats:
    """Model usage for a run (all zero for the rules backend)."""

    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    dropped: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Backend(Protocol):
    identity: Identity
    stats: CallStats

    def extract(self, doc: PreparedDoc) -> DocumentResult: ...


BackendFactory = Callable[..., Backend]
_REGISTRY: dict[str, BackendFactory] = {}


def register(name: str) -> Callable[[BackendFactory], BackendFactory]:
    def deco(factory: BackendFactory) -> BackendFactory:
        _REGISTRY[name] = factory
        return factory

    return deco


def get_backend(name: str, **settings: object) -> Backend:
    _load_builtins()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown backend {name!r}; choose one of {', '.join(sorted(_REGISTRY))}")
    _check_settings(settings)
    return _REGISTRY[name](**settings)


def _check_settings(settings: dict[str, object]) -> None:
    """Option values are checked whatever the backend: `--timeout 0` is an error even
    for `rules`, which would ignore it, rather than a surprise on the next model run."""
    try:
        from summarizer.backends.llm import LLMSettings
    except ImportError:  # pragma: no cover - llm extras missing
        return
    LLMSettings.from_kwargs(**settings)


def _load_builtins() -> None:
    from summarizer.backends import rules  # noqa: F401  (registers itself)

    try:
        from summarizer.backends import llm  # noqa: F401
    except ImportError:  # pragma: no cover - llm extras missing
        pass
