"""The one base of what clients send."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


class InputModel(BaseModel):
    """A request body or query model. Unknown fields are refused (a misspelt field silently
    dropped loses what the client meant to record), text is trimmed, and NaN and Infinity
    are not numbers anyone can store or sum."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The document says what `not_emptied` enforces: such a field may be left out,
        never sent as null."""
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for name in _not_emptied_fields(cls):
            field = cls.model_fields.get(name)
            prop = properties.get((field.alias if field else None) or name)
            if prop is not None:
                _drop_null(prop)
        return schema


def _not_null(cls: type, value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be emptied")
    return value


def not_emptied(*fields: str) -> Any:
    """The validator of an update model whose `fields` may be left out but not sent as null:
    the record cannot do without them. It runs only for the fields the client sent."""
    return field_validator(*fields, mode="before")(_not_null)


def _not_emptied_fields(model: type[BaseModel]) -> set[str]:
    return {
        name
        for decorator in model.__pydantic_decorators__.field_validators.values()
        if getattr(decorator.func, "__func__", decorator.func) is _not_null
        for name in decorator.info.fields
    }


def _drop_null(prop: dict[str, Any]) -> None:
    if prop.get("default", ...) is None:
        del prop["default"]
    branches = [b for b in prop.get("anyOf", []) if b != {"type": "null"}]
    if "anyOf" not in prop:
        return
    if len(branches) == 1:
        del prop["anyOf"]
        prop.update(branches[0])
    else:
        prop["anyOf"] = branches
