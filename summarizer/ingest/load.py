"""Read a document file into text, whatever encoding the web gave it.

Government sites still serve GB18030/GBK, Windows tools write UTF-16 with a BOM,
and scrapers save UTF-8 with or without one. Detection is explicit (BOMs, then
strict UTF-8, then strict GB18030) rather than guessed statistically: a wrong
guess would silently corrupt every quote downstream, so an undecodable file is an
error that names the file.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from summarizer.errors import InputError

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


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t\f")
    return controls > max(8, len(sample) // 20)


def read_text_file(path: Path) -> tuple[str, str]:
    return decode_bytes(path.read_bytes(), path)


# Readers by file extension; other formats register here.
READERS: dict[str, Callable[[Path], tuple[str, str]]] = {".txt": read_text_file}


def _register_formats() -> None:
    from summarizer.ingest.formats import register_all

    register_all()


def supported(path: Path) -> bool:
    _register_formats()
    return path.suffix.lower() in READERS


def read_document(path: Path) -> RawDocument:
    """Read one document file. Raises InputError with the file named."""
    import hashlib

    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory")
    _register_formats()
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(path, f"unsupported file type {path.suffix or '(none)'}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None
    text, encoding = reader(path)
    return RawDocument(
        doc_id=path.stem,
        path=str(path),
        text=text,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def find_documents(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and folders (recursively) into (documents, skipped files)."""
    docs: list[Path] = []
    skipped: list[Path] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                (docs if supported(f) else skipped).append(f)
        else:
            docs.append(p)  # missing or odd files fail later, one line each
    return docs, skipped
