"""The `summarizer` executable: the CLI behind streams that cannot be turned against the user.

Two things printed text must never do, whatever file names and documents hold:

- **end a run**: a GBK (or ASCII) console cannot encode an emoji in a file name,
  and a UnicodeEncodeError in a progress line used to abort the batch. Both
  streams are switched to `errors="replace"`: a `?` instead of a crash.
- **drive the terminal**: ANSI/OSC escape sequences in a file name or a document
  title can move the cursor, rewrite earlier lines, retitle the window or set the
  clipboard. `SafeStream` drops every escape sequence and control character except
  the few our own output uses: colours (SGR) and the progress bar's cursor moves.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from summarizer.safe_output import terminal_text

# What our own output writes (click's colours, rich's progress bar): kept as they are.
_OURS = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\?25[hl]|\x1b\[[0-9]*[AK]|\x1b\[2K|\r")


class SafeStream:
    """A text stream wrapper that strips foreign control sequences from everything written."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with b"" to tell text streams from binary ones
            raise TypeError("SafeStream takes str")
        parts: list[str] = []
        last = 0
        for m in _OURS.finditer(text):
            parts.append(terminal_text(text[last : m.start()]))
            parts.append(m.group())
            last = m.end()
        parts.append(terminal_text(text[last:]))
        self._stream.write("".join(parts))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, buffer...
        return getattr(self._stream, name)


def harden_streams() -> None:
    """stdout/stderr: unencodable characters replaced, foreign escape sequences dropped."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or isinstance(stream, SafeStream):
            continue
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - a stream that cannot change
                pass
        setattr(sys, name, SafeStream(stream))


def main() -> None:
    """Entry point of the `summarizer` command."""
    from summarizer.interfaces.cli import app

    harden_streams()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
