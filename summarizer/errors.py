"""Errors a user can act on, one type per kind; the CLI prints each as one line."""

from __future__ import annotations


class SummarizerError(Exception):
    """Base class: anything the CLI reports as a one-line error."""


class InputError(SummarizerError):
    """A document that cannot be read: missing, empty, binary, undecodable."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class StoreError(SummarizerError):
    """A results database that cannot be used: missing, not ours, corrupt, read-only, disk full."""


class GoldError(SummarizerError):
    """A gold file that does not follow the gold format."""


class ConfigError(SummarizerError):
    """Options that cannot work together (missing API key, unknown backend...)."""


class BackendError(SummarizerError):
    """A backend failed on a document after its retries."""
