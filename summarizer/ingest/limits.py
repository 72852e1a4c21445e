"""How big, and what kind of, input the readers accept.

Size and shape, not just content, can take a batch down: a 3 MB .docx that inflates
to 6 GB, a path that is a symlink to `/dev/zero` (endless bytes), a FIFO that
blocks the reader forever, an HTML page whose parse tree is forty times its size.
Every reader goes through this module, so each of those is refused with one line
naming the file *before* anything large is read, inflated or parsed, and the batch
goes on. Peak memory then follows the largest document the limits admit, not the
biggest file someone drops into the folder.

The defaults are sized for real documents with room to spare (a 500-page plan is
about 1.5 million characters, a few MB of PDF or .docx) and each can be moved with
an environment variable, in MB or characters:

| variable | default | what it bounds |
|---|---|---|
| `SUMMARIZER_MAX_FILE_MB` | 100 | bytes of any input file on disk |
| `SUMMARIZER_MAX_HTML_MB` | 20 | bytes of an HTML page (its parse tree takes ~40x that) |
| `SUMMARIZER_MAX_UNZIPPED_MB` | 200 | total declared size of a .docx's zip members |
| `SUMMARIZER_MAX_TEXT_CHARS` | 5000000 | characters of text extracted from one document |
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from summarizer.errors import InputError

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The input limits in force; `Limits.current()` reads them from the environment."""

    max_file_bytes: int = 100 * _MB
    max_html_bytes: int = 20 * _MB
    max_unzipped_bytes: int = 200 * _MB
    max_text_chars: int = 5_000_000

    @classmethod
    def current(cls) -> Limits:
        """Defaults overridden by SUMMARIZER_MAX_* (read on every call, so tests and runs can move them)."""
        d = cls()
        return cls(
            max_file_bytes=_env_mb("SUMMARIZER_MAX_FILE_MB", d.max_file_bytes),
            max_html_bytes=_env_mb("SUMMARIZER_MAX_HTML_MB", d.max_html_bytes),
            max_unzipped_bytes=_env_mb("SUMMARIZER_MAX_UNZIPPED_MB", d.max_unzipped_bytes),
            max_text_chars=_env_int("SUMMARIZER_MAX_TEXT_CHARS", d.max_text_chars),
        )


def _env_mb(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return int(value * _MB) if value > 0 else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


def _mb(n: int) -> str:
    return f"{n / _MB:.1f} MB" if n < 10 * _MB else f"{n / _MB:.0f} MB"


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def _not_regular(path: object, mode: int) -> InputError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return InputError(path, f"not a regular file ({kind}); only document files are read")


def check_regular(path: Path) -> os.stat_result:
    """Refuse FIFOs, devices and sockets (a symlink is judged by what it points to)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path, st.st_mode)
    return st


def read_bounded(path: Path, html: bool = False) -> bytes:
    """A regular file's bytes, refused with one line when it is over the file (or HTML) limit.

    The file is opened non-blocking (a FIFO swapped in after the check cannot hang
    the read) and checked again on the open descriptor; at most max_bytes + 1 bytes
    are ever read, so a file that grows while being read cannot exhaust memory.
    """
    lim = Limits.current()
    limit, var = (lim.max_html_bytes, "SUMMARIZER_MAX_HTML_MB") if html else (lim.max_file_bytes,
                                                                               "SUMMARIZER_MAX_FILE_MB")
    check_regular(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode)
        if st.st_size > limit:
            raise _too_large(path, st.st_size, limit, var)
        try:
            # The stated size first (asking for limit + 1 bytes sizes a buffer of the limit
            # each time), then whatever a growing file added, up to the limit + 1.
            data = f.read(st.st_size + 1)
            if len(data) > st.st_size:
                data += f.read(limit + 1 - len(data))
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise _too_large(path, len(data), limit, var)
    return data


def _too_large(path: object, size: int, limit: int, var: str) -> InputError:
    return InputError(path, f"file too large ({_mb(size)}; the limit is {_mb(limit)}, set {var} to change it)")


def check_zip(path: object, archive: zipfile.ZipFile) -> None:
    """Refuse a zip whose members inflate past the limit, before anything else inflates them.

    First the declared sizes (the central directory alone). Then each member is
    inflated as a stream, 1 MB at a time, and counted, because a header can lie:
    `zipfile.read()` inflates a member's whole compressed data in one piece, so a
    member declaring 1 KB can still take gigabytes there. The stream also verifies
    each member's CRC, so what python-docx reads afterwards is what was counted.
    """
    limit = Limits.current().max_unzipped_bytes
    declared = sum(info.file_size for info in archive.infolist())
    if declared > limit:
        raise _bomb(path, limit)
    total = 0
    for info in archive.infolist():
        if info.is_dir():
            continue
        with archive.open(info) as member:
            while chunk := member.read(_MB):
                total += len(chunk)
                if total > limit:
                    raise _bomb(path, limit)


def _bomb(path: object, limit: int) -> InputError:
    return InputError(path, f"unpacks to more than {_mb(limit)} (a zip bomb?; "
                            "set SUMMARIZER_MAX_UNZIPPED_MB to change the limit)")


def check_text(path: object, text: str) -> None:
    """Refuse extracted text longer than the character limit (memory downstream grows with it)."""
    limit = Limits.current().max_text_chars
    if len(text) > limit:
        raise InputError(path, f"too much text ({len(text):,} characters; the limit is {limit:,}, "
                               "set SUMMARIZER_MAX_TEXT_CHARS to change it)")
