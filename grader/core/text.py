"""Text from a submission, made safe to store and to show.

A submission's text can hold what no UTF-8 file, SQLite column or terminal takes: a lone
surrogate (a notebook's JSON may carry `"\\ud800"`; a file name that is not UTF-8 arrives
with its bytes as U+DC80..U+DCFF), and characters that do not show (control and format
characters, the bidirectional overrides).  `storable` keeps everything else as it is and
writes a lone surrogate as its escape, so every writer can encode the text;
`visible` also writes each character that does not show as its escape, so that two names
which look alike are told apart (`alice` and `alice` + ESC).
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_HIDDEN_CATEGORIES = (
    "Cc",
    "Cf",
    "Cs",
    "Co",
    "Cn",
)  # control, format, surrogate, private, unassigned


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as Python's file names hold it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def storable(text: str) -> str:
    """`text` with each lone surrogate written as its escape: encodable as UTF-8."""
    return _SURROGATE.sub(lambda m: _escape(m.group()), text) if _SURROGATE.search(text) else text


def visible(text: str) -> str:
    """`text` with each character that does not show written as its escape (a backslash too,
    so that the escaped form of one name is never another's plain one)."""
    return "".join(
        _escape(c) if c == "\\" or unicodedata.category(c) in _HIDDEN_CATEGORIES else c
        for c in text
    )
