"""Keeping API keys out of logs, stores and reports.

Providers echo keys back in error messages ("Incorrect API key provided:
sk-..."), so every string that leaves a backend passes through ``redact``.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)
_KEY_SHAPES = r"\b(?:sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|Bearer\s+[A-Za-z0-9._\-]{8,})"


def secret_values() -> list[str]:
    return [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6]


@lru_cache(maxsize=8)
def _pattern(values: tuple[str, ...]) -> re.Pattern[str]:
    literal = [re.escape(v) for v in sorted(values, key=len, reverse=True)]
    return re.compile("|".join([*literal, _KEY_SHAPES]))


_env_snapshot: tuple[int, tuple[str, ...]] | None = None


def redact(text: str) -> str:
    """Replace secret environment values and key-shaped strings with ``***``.
    The environment is rescanned only when its size changes: this runs on every
    stored response, and walking os.environ each time cost 0.2 ms a case."""
    global _env_snapshot
    if _env_snapshot is None or _env_snapshot[0] != len(os.environ):
        _env_snapshot = (len(os.environ), tuple(secret_values()))
    return _pattern(_env_snapshot[1]).sub("***", text)
