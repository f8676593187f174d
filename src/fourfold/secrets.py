"""Keeping API keys out of logs, stores and reports.

Providers echo keys back in error messages ("Incorrect API key provided:
sk-..."), so every string that leaves a backend passes through ``redact``.
"""

from __future__ import annotations

import os
import re

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|Bearer\s+[A-Za-z0-9._\-]{8,})")


def secret_values() -> list[str]:
    return [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6]


def redact(text: str) -> str:
    for value in secret_values():
        if value in text:
            text = text.replace(value, "***")
    return _KEY_SHAPES.sub("***", text)
