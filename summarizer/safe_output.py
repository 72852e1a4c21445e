"""Text from documents and file names made safe for where it is written.

Everything we print or export carries text we did not write: titles and quotes
from scraped pages, file names from whoever named them. Each output has its own
way of turning such text into action, so each gets its own neutralizer:

- **CSV** opened in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, a tab
  or a carriage return is a formula (`=HYPERLINK(...)` runs). The OWASP rule: prefix
  such a cell with `'` so it is shown as text. Numbers stay numbers.
- **Markdown**: renderers pass inline HTML through, so a document's `<script>`
  would run in the report. `<`, `>` and `&` are escaped.
- **Terminal**: ANSI/OSC escape sequences in a file name can recolour, move the
  cursor, retitle the window or write the clipboard. Control characters go.
"""

from __future__ import annotations

import html
import re

# OWASP "CSV Injection": cells starting with these are formulas to Excel, LibreOffice, Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: formula starters get a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def markdown_text(text: object) -> str:
    """Text for a Markdown document: HTML special characters escaped, so tags show, never run."""
    return html.escape(str(text), quote=False)


# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC (ESC ] ... BEL or ST),
# two-character escapes; then the C1 forms of the same (U+009B CSI, U+009D OSC ...).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x9c|$)",
    re.DOTALL,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: object) -> str:
    """Text for a terminal: escape sequences and control characters removed (newline and tab kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", str(text)))
