"""Text comparison as the gold format defines it: NFKC, whitespace removed."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")


def norm(text: str | None) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", text or ""))
