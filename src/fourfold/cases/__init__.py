"""Cases: the schema, the taxonomy of the grid, and loading from files and suites."""

from typing import TYPE_CHECKING, Any

from . import schema as _schema
from .loader import CaseError, CaseFileError, LoadedCase, list_suites, load_cases, load_file, resolve_source
from .schema import REFERENCE_KINDS, Case, ImagePart, Message, Metadata, TextPart, VideoPart, case_json_schema

if TYPE_CHECKING:
    from .schema import (
        AcknowledgeAbsentRef,
        ChoiceRef,
        ComplyRef,
        ExactRef,
        NumericRef,
        RefuseRef,
        RegexRef,
        RubricRef,
        UnitTestsRef,
    )
from .taxonomy import CATEGORIES, CELLS, MODALITIES, PROPERTIES, select_cells

__all__ = [
    "CATEGORIES", "CELLS", "MODALITIES", "PROPERTIES", "REFERENCE_KINDS", "AcknowledgeAbsentRef", "Case",
    "CaseError", "CaseFileError", "ChoiceRef", "ComplyRef", "ExactRef", "ImagePart", "LoadedCase", "Message",
    "Metadata", "NumericRef", "RefuseRef", "RegexRef", "RubricRef", "TextPart", "UnitTestsRef", "VideoPart",
    "case_json_schema", "list_suites", "load_cases", "load_file", "resolve_source", "select_cells",
]


def __getattr__(name: str) -> Any:
    """The kinds' classes, imported on first use (``schema.__getattr__``)."""
    if name in _schema.KIND_CLASS_NAMES:
        return getattr(_schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
