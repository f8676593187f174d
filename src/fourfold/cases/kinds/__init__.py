"""Reference kinds: one module per kind, holding its schema and the words it
uses for people (``summary()``) and judge models (``describe()``)."""

from .base import ReferenceKind

__all__ = ["ReferenceKind"]
