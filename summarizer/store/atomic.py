"""Write files all or nothing: temp files beside the targets, renamed over them at the end.

An export written in place and cut off by a full disk (or Ctrl-C) destroys the
previous good export and leaves a file that looks complete. Here the new content
goes to a hidden temp file in the same folder, is flushed and fsynced, and only
then renamed over the target (a rename within a folder is atomic on POSIX and
Windows). Any error removes the temp files and leaves the targets as they were.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def replace_all(paths: list[Path], encoding: str = "utf-8", newline: str | None = None) -> Iterator[list[TextIO]]:
    """Text files for `paths`; they replace the targets together when the block ends without error."""
    temps: list[str] = []
    files: list[TextIO] = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps.append(tmp)
            os.chmod(tmp, _mode_for(path))  # mkstemp makes 0600; keep what a plain open would give
            files.append(os.fdopen(fd, "w", encoding=encoding, newline=newline))
        yield files
        for f in files:  # every file is on disk before any target changes
            f.flush()
            os.fsync(f.fileno())
        for f in files:
            f.close()
        for tmp, path in zip(temps, paths):
            os.replace(tmp, path)
    except BaseException:
        for f in files:
            with contextlib.suppress(Exception):  # closing flushes, which fails again on a full disk
                f.close()
        for tmp in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


@contextlib.contextmanager
def replace(path: Path, encoding: str = "utf-8", newline: str | None = None) -> Iterator[TextIO]:
    """One text file that replaces `path` only when complete."""
    with replace_all([path], encoding=encoding, newline=newline) as (f,):
        yield f


def _mode_for(path: Path) -> int:
    """The target's permissions if it exists, else 0666 less the umask (as `open()` would create it)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        pass
    umask = 0o022
    with contextlib.suppress(OSError, ValueError, StopIteration):  # Linux tells it without changing it
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("Umask:"))
        umask = int(line.split()[1], 8)
    return 0o666 & ~umask
