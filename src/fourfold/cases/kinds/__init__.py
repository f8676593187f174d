"""Reference kinds: what a case's ``reference`` may be, looked up by name.

Each kind is one module here: its pydantic schema (a :class:`ReferenceKind`),
the words it uses for people (``summary()``) and judge models (``describe()``),
and the name of the rule that judges it. ``REFERENCE_KINDS`` maps a kind's name
to its schema, one line per kind; a plugin module named in ``FOURFOLD_PLUGINS``
adds its own kinds with the same line.

``Reference`` is the type of ``Case.reference``. It looks the ``kind`` up in
the registry when a case is validated, not when the ``Case`` class is built,
so a kind registered by a plugin after ``fourfold.cases`` was imported
validates like a built-in one, and an unknown kind gets the registry's
"did you mean" (``reference.kind: unknown reference kind 'exct'; did you mean
'exact'? ...``). The JSON Schema (``fourfold cases schema``) is likewise a
``oneOf`` over the kinds registered when it is generated.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from ...registry import Registry, RegistryError
from .base import ReferenceKind

REFERENCE_KINDS: Registry[type[ReferenceKind]] = Registry("reference kind", base=ReferenceKind)
#: The built-in kinds, each one module ``cases/kinds/NAME.py`` holding its class
#: ``<Name>Ref`` (``unit_tests`` -> ``UnitTestsRef``): registered lazily, so a
#: run imports only the kinds its cases use.
BUILTIN_KINDS = ("exact", "choice", "numeric", "regex", "unit_tests", "refuse", "comply", "acknowledge_absent", "rubric")
#: The built-in kinds' classes by class name (``ChoiceRef`` -> ``choice``).
KIND_CLASS_NAMES = {f"{name.title().replace('_', '')}Ref": name for name in BUILTIN_KINDS}
for _class, _name in KIND_CLASS_NAMES.items():
    REFERENCE_KINDS.register(_name, f"{__name__}.{_name}:{_class}")


def _kind_error(message: str, kind: Any) -> ValidationError:
    """An error located at ``kind`` (the loader shows ``reference.kind``). Built
    as a ValidationError so pydantic nests its location under the field."""
    error = PydanticCustomError("reference_kind", message)  # no context: the message is not a template
    return ValidationError.from_exception_data("Reference", [{"type": error, "loc": ("kind",), "input": kind}])


def validate_reference(data: Any, info: ValidationInfo) -> ReferenceKind:
    """A reference object validated by the schema its ``kind`` names in the
    registry; a reference already built (``Case(reference=ExactRef(...))``,
    ``model_copy``) is taken as it is, as pydantic takes a model instance."""
    if isinstance(data, ReferenceKind):
        return data
    if not isinstance(data, dict):
        raise PydanticCustomError("dict_type", "Input should be a valid dictionary or object to extract fields from")
    kind = data.get("kind")
    if not isinstance(kind, str):
        known = ", ".join(REFERENCE_KINDS.names())
        what = "required" if kind is None else "must be a string"
        raise _kind_error(f"{what}: the kind of reference (known: {known})", kind)
    try:
        cls = REFERENCE_KINDS.get(kind)
    except RegistryError as e:  # unknown (with "did you mean"), or a plugin's kind that cannot be imported
        raise _kind_error(str(e), kind) from None
    return cls.__pydantic_validator__.validate_python(data, context=info.context)  # type: ignore[no-any-return]


class _ByKind:
    """Pydantic hooks for ``Reference``: validate through :func:`validate_reference`;
    describe as a ``oneOf`` over the registered kinds, discriminated by ``kind``."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # Serialised by inference: each kind serialises as its own model does.
        return core_schema.with_info_plain_validator_function(validate_reference)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        union = core_schema.tagged_union_schema(
            {name: cls.__pydantic_core_schema__ for name, cls in REFERENCE_KINDS.items()}, discriminator="kind")
        return handler(union)


#: The type of ``Case.reference``: any registered kind, chosen by its ``kind``.
Reference = Annotated[ReferenceKind, _ByKind()]

__all__ = ["REFERENCE_KINDS", "Reference", "ReferenceKind", "validate_reference"]
