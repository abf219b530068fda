"""Pydantic validation errors as people read them: a field path and a sentence per field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.core.limits import ECHO_MAX, clip

# A body with thousands of wrong keys gets this many named back, not thousands.
FIELDS_MAX = 20
# The request part FastAPI puts first in a location; the field path starts after it.
_PARTS = ("body", "query", "path", "header", "cookie")


def field_path(loc: Iterable[Any]) -> str:
    # A dict key is user input too: a 20 MB key must not come back in full.
    parts = [clip(str(p)) for p in loc]
    if parts and parts[0] in _PARTS:
        parts = parts[1:]
    return ".".join(parts)


def _bounds(prop: Mapping[str, Any]) -> str | None:
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    kind = "an integer" if prop.get("type") == "integer" else "a number"
    if low is not None and high is not None:
        return f"must be {kind} between {low:g} and {high:g}"
    if low is not None:
        return f"must be {kind} of at least {low:g}"
    if high is not None:
        return f"must be {kind} of at most {high:g}"
    return None


def sentence(err: Mapping[str, Any], prop: Mapping[str, Any] | None = None) -> str:
    """One pydantic error as a short sentence about its field ("must be an integer ...")."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if prop and kind.startswith(("int_", "float_", "greater_", "less_")):
        said = _bounds(prop)
        if said:
            return said
    if kind == "missing":
        return "is required"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be an integer"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if kind == "string_too_short":
        n = ctx.get("min_length")
        return "must not be empty" if n == 1 else f"must be at least {n} characters long"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "literal_error" or kind == "enum":
        return f"must be one of {ctx.get('expected')}"
    msg = str(err.get("msg", "is invalid"))
    # Our own validators raise ValueError("..."); pydantic prefixes it, the reader needs none.
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return msg[:1].lower() + msg[1:] if msg[:1].isupper() and not msg[1:2].isupper() else msg


def fields_of(
    errors: Iterable[Mapping[str, Any]],
    prefix: str = "",
    schema: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """{field path: sentence}, the first error per field; `schema` (JSON Schema) names bounds."""
    props = (schema or {}).get("properties", {})
    out: dict[str, str] = {}
    for err in errors:
        if len(out) >= FIELDS_MAX:
            break
        path = field_path(err.get("loc", ()))
        prop = props.get(path) if path and "." not in path else None
        key = ".".join(p for p in (prefix, path) if p) or prefix or "body"
        out.setdefault(clip(key, 2 * ECHO_MAX), clip(sentence(err, prop), 2 * ECHO_MAX))
    return out


def summary(fields: Mapping[str, str]) -> str:
    """The `detail` sentence for a field map."""
    if len(fields) == 1:
        ((name, says),) = fields.items()
        return f"{name} {says}."
    return "Some fields are invalid: " + "; ".join(f"{k} {v}" for k, v in fields.items()) + "."
