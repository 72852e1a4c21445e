"""Readers for the non-text formats policy documents come in: HTML pages, .docx, text PDFs.

Each reader turns a file into plain text in the shape the rest of the pipeline
expects: one paragraph per line, and each table row on one line with its cells
joined by `' | '` (`| 工作内容 | 目标任务 | 责任单位 |`) so the task-table parser in
`summarizer.extract.structure` reads Word and HTML tables exactly as it reads text ones.

Readers return `(text, encoding_or_format)` and raise `InputError` (file named, one
line) for anything they cannot read; the third-party parsers raise many exception
types on corrupt input, so each reader turns all of them into that one error and the
batch goes on. `register_all()` adds the readers to `summarizer.ingest.load.READERS`.

Offsets: the cleaned text's offset map points into the *extracted* text (what
`RawDocument.text` holds), not into the HTML/.docx/.pdf bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from summarizer.errors import InputError
from summarizer.ingest import limits, load

CELL_SEP = " | "

# Page chrome that is never document text.
_DROP_TAGS = frozenset(
    {"script", "style", "nav", "header", "footer", "noscript", "template", "head", "iframe",
     "object", "embed", "svg", "canvas", "select", "button", "input", "textarea", "map"}
)
# Elements that start and end a line of their own.
_BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
     "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3",
     "h4", "h5", "h6", "hgroup", "hr", "html", "li", "main", "menu", "ol", "p", "pre",
     "section", "summary", "ul", "caption", "tbody", "thead", "tfoot", "tr", "td", "th"}
)
_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
# Declared Chinese charsets are supersets in practice: pages labeled gb2312 use GBK.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
                    "euc-cn": "gb18030", "cp936": "gb18030", "utf8": "utf-8", "unicode": "utf-8"}
_WS_RE = re.compile(r"[ \t\r\n\f\v]+")


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    msg = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return msg[:200]


# --------------------------------------------------------------------------- HTML


def _html_charset(data: bytes) -> str | None:
    m = _META_CHARSET_RE.search(data[:8192])
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace").strip().lower()
    return _CHARSET_ALIASES.get(name, name)


def decode_html(data: bytes, path: object = "<bytes>") -> tuple[str, str]:
    """Decode HTML bytes: a BOM wins, then valid UTF-8, then the meta charset, then GB18030.

    Valid UTF-8 beats the label because sites often keep a stale `gb2312` meta tag after
    re-saving pages as UTF-8, and GB18030 would decode those bytes into mojibake without
    an error. A label that names another charset (Big5, Shift_JIS...) is trusted before
    falling back to load's GB18030 guess.
    """
    if not data.strip():
        raise InputError(path, "empty file")
    declared = _html_charset(data)
    if declared and declared not in ("utf-8", "gb18030") and not data.startswith(
        (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
    ):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                return data.decode(declared), declared
            except (LookupError, UnicodeDecodeError):
                pass  # unknown or wrong label: detect instead
    return load.decode_bytes(data, path)


def _cell_text(cell: Any) -> str:
    """A table cell's text on one line; a literal `|` would split the row, so it becomes `｜`."""
    parts: list[str] = []
    _walk(cell, parts, in_pre=False)
    text = _WS_RE.sub(" ", "".join(parts)).strip()
    return text.replace("|", "｜")


def _is_layout_table(table: Any) -> bool:
    """A table that holds other tables lays out the page; its cells are blocks, not a row."""
    return table.find("table") is not None


def _table_lines(table: Any) -> Iterator[str]:
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        cells = [c for c in tr.find_all(["td", "th"], recursive=False)]
        values = [_cell_text(c) for c in cells]
        if not any(values):
            continue
        yield "| " + CELL_SEP.join(values) + " |"


def _walk(node: Any, out: list[str], in_pre: bool) -> None:
    """Append node's visible text to out, blocks on lines of their own.

    An explicit stack rather than recursion: a page nested a thousand levels deep
    (lxml builds such trees happily) must not hit Python's recursion limit.
    """
    from bs4 import NavigableString, Tag
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    # (children still to visit, inside <pre>, text to append when they are done)
    stack: list[tuple[Iterator[Any], bool, str]] = [(iter(node.children), in_pre, "")]
    while stack:
        children, pre, closing = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            out.append(closing)
            continue
        if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
            continue
        if isinstance(child, NavigableString):
            s = str(child)
            out.append(s if pre else _WS_RE.sub(" ", s))
            continue
        if not isinstance(child, Tag):
            continue
        name = (child.name or "").lower()
        if name in _DROP_TAGS or child.get("hidden") is not None:
            continue
        if name == "br":
            out.append("\n")
        elif name == "table" and not _is_layout_table(child):
            out.append("\n")
            out.extend(line + "\n" for line in _table_lines(child))
        elif name in _BLOCK_TAGS or name == "table":
            out.append("\n")
            stack.append((iter(child.children), pre or name == "pre", "\n"))
        else:
            stack.append((iter(child.children), pre, ""))


def html_to_text(markup: str) -> str:
    """The visible body text of an HTML page, one block per line, tables as `|` rows."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    root = soup.body or soup
    parts: list[str] = []
    _walk(root, parts, in_pre=False)
    lines = (ln.strip(" \t\r\f\v") for ln in "".join(parts).split("\n"))
    return "\n".join(ln for ln in lines if ln)


def read_html(path: Path) -> tuple[str, str]:
    data = limits.read_bounded(path, html=True)
    text, encoding = decode_html(data, path)
    try:
        body = html_to_text(text)
    except Exception as exc:
        raise InputError(path, f"cannot parse HTML ({_one_line(exc)})") from None
    if not body.strip():
        raise InputError(path, "HTML page has no body text")
    return body, encoding


# --------------------------------------------------------------------------- DOCX


def docx_to_text(document: Any) -> str:
    """Paragraphs and tables of a python-docx Document, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if text:
                lines.extend(ln for ln in (s.strip() for s in text.split("\n")) if ln)
        elif isinstance(block, Table):
            lines.extend(_docx_table_lines(block))
    return "\n".join(lines)


def _docx_table_lines(table: Any) -> Iterator[str]:
    for row in table.rows:
        values: list[str] = []
        last_tc = None
        for cell in row.cells:
            if cell._tc is last_tc:  # a horizontally merged cell repeats: keep it once
                continue
            last_tc = cell._tc
            values.append(_WS_RE.sub(" ", cell.text).strip().replace("|", "｜"))
        if any(values):
            yield "| " + CELL_SEP.join(values) + " |"


# Word's main-part content types beyond a plain .docx: macro-enabled documents (.docm,
# often saved as .docx) and templates hold the same WordprocessingML; macros are never run.
_WORD_MAIN_TYPES = (
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
)


def open_word_package(data: bytes, path: object = "<bytes>") -> Any:
    """A python-docx Document from .docx bytes, after the zip limits; macro-enabled files too.

    `docx.Document()` rejects any main part that is not a plain document; python-docx
    reads the others fine once their content types map to its DocumentPart.
    """
    import io
    import zipfile

    from docx.opc.part import PartFactory
    from docx.package import Package
    from docx.parts.document import DocumentPart

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            limits.check_zip(path, archive)
    except zipfile.BadZipFile as exc:
        raise InputError(path, f"corrupt .docx ({_one_line(exc)})") from None
    for content_type in _WORD_MAIN_TYPES:
        PartFactory.part_type_for.setdefault(content_type, DocumentPart)
    part = Package.open(io.BytesIO(data)).main_document_part
    if not isinstance(part, DocumentPart):
        raise InputError(path, f"not a Word document (main part is {part.content_type})")
    return part.document


def read_docx(path: Path) -> tuple[str, str]:
    import io
    import zipfile

    data = limits.read_bounded(path)
    if not data.strip():
        raise InputError(path, "empty file")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError(path, "not a valid .docx (not a zip archive; an old binary .doc? save it as .docx)")
    try:
        text = docx_to_text(open_word_package(data, path))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(path, f"corrupt .docx ({_one_line(exc)})") from None
    if not text.strip():
        raise InputError(path, ".docx has no text")
    return text, "docx"


# --------------------------------------------------------------------------- PDF


def read_pdf(path: Path) -> tuple[str, str]:
    import io
    import logging

    data = limits.read_bounded(path)
    if not data.strip():
        raise InputError(path, "empty file")
    if not data.lstrip()[:5] == b"%PDF-":
        raise InputError(path, "not a PDF file (no %PDF header)")
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # pypdf warns on every sloppy-but-readable file
    try:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))
            except DependencyError:  # AES needs the `cryptography` package (pypdf[crypto])
                raise InputError(path, "AES-encrypted PDF and the cryptography package is missing "
                                       "(pip install 'pypdf[crypto]')") from None
            except Exception:
                opened = False
            if not opened:
                raise InputError(path, "encrypted PDF (needs a password)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except Exception as exc:
        raise InputError(path, f"corrupt PDF ({_one_line(exc)})") from None
    finally:
        pypdf_log.setLevel(level)
    text = "\n".join(p.strip("\n") for p in pages)
    if not text.strip():
        raise InputError(path, "PDF has no text layer (scanned?); OCR it first")
    return text, "pdf"


# --------------------------------------------------------------------------- registry


FORMAT_READERS: dict[str, Callable[[Path], tuple[str, str]]] = {
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
    ".docm": read_docx,
    ".pdf": read_pdf,
}


def register_all() -> None:
    """Add the HTML, .docx and PDF readers to `summarizer.ingest.load.READERS` (idempotent)."""
    load.READERS.update(FORMAT_READERS)
