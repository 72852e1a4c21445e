"""Read a document file into text, whatever encoding the web gave it.

Government sites still serve GB18030/GBK, Windows tools write UTF-16 with a BOM,
and scrapers save UTF-8 with or without one. Detection is explicit (BOMs, then
strict UTF-8, then strict GB18030) rather than guessed statistically: a wrong
guess would silently corrupt every quote downstream, so an undecodable file is an
error that names the file.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from summarizer.errors import InputError
from summarizer.ingest import limits

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class RawDocument:
    """A document as read from disk, before cleaning."""

    doc_id: str
    path: str
    text: str
    encoding: str
    sha256: str


def decode_bytes(data: bytes, path: object = "<bytes>") -> tuple[str, str]:
    """Decode document bytes; returns (text, encoding name)."""
    if not data.strip():
        raise InputError(path, "empty file")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise InputError(path, f"has a {enc} byte-order mark but does not decode: {exc.reason}") from None
    if b"\x00" in data[:4096]:
        raise InputError(path, "binary file (NUL bytes, no text byte-order mark)")
    for enc in ("utf-8", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            raise InputError(path, "binary file (mostly control characters)")
        return text, enc
    raise InputError(path, "undecodable text: not UTF-8, UTF-16/32 with BOM, or GB18030/GBK")


_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f]")  # below 32, except \t \n \f \r


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = len(_CONTROL_RE.findall(sample))
    return controls > max(8, len(sample) // 20)


def read_text_file(path: Path) -> tuple[str, str]:
    return decode_bytes(limits.read_bounded(path), path)


# Readers by file extension; other formats register here.
READERS: dict[str, Callable[[Path], tuple[str, str]]] = {".txt": read_text_file}


def _register_formats() -> None:
    from summarizer.ingest.formats import register_all

    register_all()


def supported(path: Path) -> bool:
    _register_formats()
    return path.suffix.lower() in READERS


def read_document(path: Path) -> RawDocument:
    """Read one document file. Raises InputError with the file named.

    The checks in `summarizer.ingest.limits` come first: only regular files are
    read (a FIFO or `/dev/zero` is refused, not read), within the size limits.
    """
    import hashlib

    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, _folder_problem(path))
    _register_formats()
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(path, f"unsupported file type {path.suffix or '(none)'}")
    data = limits.read_bounded(path)
    sha256 = hashlib.sha256(data).hexdigest()
    if reader is read_text_file:  # the bytes just hashed are the text's: one read, not two
        text, encoding = decode_bytes(data, path)
    else:
        del data  # dropped at once: a reader may need the memory for what it parses out of the file
        text, encoding = reader(path)
    limits.check_text(path, text)
    return RawDocument(doc_id=path.stem, path=str(path), text=text, encoding=encoding, sha256=sha256)


def _folder_problem(path: Path) -> str:
    """Why a folder stands where a document was expected: named directly, or unreadable."""
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        return f"cannot read folder ({exc.strerror or exc}); the documents in it were not run"
    return "is a directory"


def find_documents(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders (recursively) into (documents, skipped files).

    A file named twice (or both directly and through its folder) is run once. A
    subfolder that cannot be listed is returned among the documents, so it gets a
    failed outcome naming it instead of being skipped silently; so does a
    non-regular file (FIFO, device) with a document extension.
    """
    docs: list[Path] = []
    skipped: list[Path] = []
    seen: set[str] = set()
    for p in paths:
        found = _folder_entries(p) if p.is_dir() else [(p, True, None)]  # missing or odd files fail later
        for f, is_doc, real in found:
            key = real or os.path.realpath(f)
            if key in seen:
                continue
            seen.add(key)
            (docs if is_doc else skipped).append(f)
    return docs, skipped


def _folder_entries(folder: Path) -> list[tuple[Path, bool, str | None]]:
    """(path, is it a document?, its real path if known) for everything under folder, sorted as
    paths sort; unreadable folders count as documents. Symlinked folders are not followed.

    One `scandir` per folder: its entries know which are folders and regular files, and a
    file that is not a symlink has its folder's real path plus its name. Listing 10,000
    files with `os.walk`, a `stat` per file and a real path per file (a system call per
    path component) cost 0.55-0.65 s before any document was read."""
    unreadable: list[OSError] = []
    entries: list[tuple[Path, bool, str | None]] = []
    folders = [os.fspath(folder)]
    while folders:
        top = folders.pop()
        try:
            with os.scandir(top) as listing:
                listed = list(listing)
        except OSError as exc:
            unreadable.append(exc)
            continue
        real_top = os.path.realpath(top)
        for entry in listed:
            if _is(entry.is_dir):  # a symlink to a folder counts as one, and is not walked into
                if not _is(entry.is_symlink):
                    folders.append(entry.path)
                continue
            f = Path(entry.path)
            real = None if _is(entry.is_symlink) else os.path.join(real_top, entry.name)
            if _is(entry.is_file):
                entries.append((f, supported(f), real))
            elif supported(f):  # a FIFO, device or broken link with a document extension: say so
                entries.append((f, True, real))
    entries += [(Path(e.filename), True, None) for e in unreadable if e.filename is not None]
    return sorted(entries, key=lambda e: e[0].parts)  # as Paths sort (by their parts), without comparing Paths


def _is(test: Callable[[], bool]) -> bool:
    """A DirEntry test; an entry that cannot be examined is not one (as `Path.is_file` says)."""
    try:
        return test()
    except OSError:
        return False
