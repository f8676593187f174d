"""Cases: the schema, the taxonomy of the grid, and loading from files and suites."""

from .loader import CaseError, CaseFileError, LoadedCase, list_suites, load_cases, load_file, resolve_source
from .schema import (
    REFERENCE_KINDS,
    AcknowledgeAbsentRef,
    Case,
    ChoiceRef,
    ComplyRef,
    ExactRef,
    ImagePart,
    Message,
    Metadata,
    NumericRef,
    RefuseRef,
    RegexRef,
    RubricRef,
    TextPart,
    UnitTestsRef,
    VideoPart,
    case_json_schema,
)
from .taxonomy import CATEGORIES, CELLS, MODALITIES, PROPERTIES, select_cells

__all__ = [
    "CATEGORIES", "CELLS", "MODALITIES", "PROPERTIES", "REFERENCE_KINDS", "AcknowledgeAbsentRef", "Case",
    "CaseError", "CaseFileError", "ChoiceRef", "ComplyRef", "ExactRef", "ImagePart", "LoadedCase", "Message",
    "Metadata", "NumericRef", "RefuseRef", "RegexRef", "RubricRef", "TextPart", "UnitTestsRef", "VideoPart",
    "case_json_schema", "list_suites", "load_cases", "load_file", "resolve_source", "select_cells",
]
