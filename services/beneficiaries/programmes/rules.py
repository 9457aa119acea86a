"""Eligibility rules: a small JSON form, checked when a programme is saved and evaluated by
walking the tree (never `eval`).

    {"all": [rule, ...]}    every rule holds          {"any": [rule, ...]}  at least one holds
    {"not": rule}           the rule does not hold
    {"field": f, "op": o, "value": v}                 a household field compared with v
    {"any_member": member_rule}                       some active member satisfies member_rule
    {"count_members": member_rule, "op": o, "value": n}   how many active members satisfy it

Member rules use the same form with member fields (and no any_member/count_members inside).
Operators: eq, ne, in, not_in (a list), and lt, le, gt, ge for numbers.

Example, refugee-village households with a disabled member:
    {"all": [{"field": "is_refugee_village", "op": "eq", "value": true},
             {"any_member": {"field": "has_disability", "op": "eq", "value": true}}]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from services.beneficiaries.models import AREAS, LEGAL_STATUSES, SEXES

MAX_DEPTH = 8
MAX_NODES = 100
MAX_LIST = 200

Scope = Literal["household", "member"]
OPS = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge")
ORDERING_OPS = ("lt", "le", "gt", "ge")
COUNT_OPS = ("eq", "ne", *ORDERING_OPS)
COMBINATORS = ("all", "any", "not", "any_member", "count_members", "field")


@dataclass(frozen=True)
class FieldSpec:
    type: type
    choices: tuple[str, ...] | None = None
    # Administrative area codes: checked against the reference data at that level.
    area_level: int | None = None


HOUSEHOLD_FIELDS: dict[str, FieldSpec] = {
    "area": FieldSpec(str, AREAS),
    "region_code": FieldSpec(str, area_level=1),
    "commune_code": FieldSpec(str, area_level=2),
    "locality_code": FieldSpec(str, area_level=3),
    "is_refugee_village": FieldSpec(bool),
    "displacement_status": FieldSpec(str),
    "member_count": FieldSpec(int),
    "dwelling_type": FieldSpec(str),
    "tenure": FieldSpec(str),
    "water_source": FieldSpec(str),
    "sanitation": FieldSpec(str),
    "registration_source": FieldSpec(str),
}
MEMBER_FIELDS: dict[str, FieldSpec] = {
    "sex": FieldSpec(str, SEXES),
    "age": FieldSpec(int),
    "legal_status": FieldSpec(str, LEGAL_STATUSES),
    "has_disability": FieldSpec(bool),
    "pregnant": FieldSpec(bool),
    "lactating": FieldSpec(bool),
    "relationship_to_head": FieldSpec(str),
    "education_level": FieldSpec(str),
}
_FIELDS: dict[Scope, dict[str, FieldSpec]] = {
    "household": HOUSEHOLD_FIELDS,
    "member": MEMBER_FIELDS,
}


@dataclass(frozen=True)
class AreaReference:
    """An area code a rule compares with, to be checked against the reference data."""

    path: str
    level: int
    code: str


@dataclass
class Validation:
    errors: list[dict[str, str]] = field(default_factory=list)
    area_codes: list[AreaReference] = field(default_factory=list)
    nodes: int = 0


def validate(rule: Any, path: str = "body.eligibility") -> Validation:
    """Everything wrong with `rule`, as `{path, message}` errors (empty when it is fine), and
    the area codes it uses."""
    result = Validation()
    _check(rule, path, 1, "household", result)
    if result.nodes > MAX_NODES:
        result.errors.insert(
            0, {"path": path, "message": f"a rule may have at most {MAX_NODES} conditions"}
        )
    return result


def _check(node: Any, path: str, depth: int, scope: Scope, result: Validation) -> None:
    result.nodes += 1
    if result.nodes > MAX_NODES:
        return  # reported once, at the root
    if depth > MAX_DEPTH:
        result.errors.append({"path": path, "message": f"nested deeper than {MAX_DEPTH} levels"})
        return
    if not isinstance(node, dict):
        result.errors.append({"path": path, "message": "a rule is a JSON object"})
        return
    kinds = [key for key in COMBINATORS if key in node]
    if len(kinds) != 1:
        result.errors.append(
            {"path": path, "message": "a rule has exactly one of: " + ", ".join(COMBINATORS)}
        )
        return
    kind = kinds[0]
    allowed = {"field", "op", "value"} if kind == "field" else {kind}
    if kind == "count_members":
        allowed = {kind, "op", "value"}
    for key in sorted(set(node) - allowed):
        result.errors.append({"path": f"{path}.{key}", "message": "unknown key"})
    for key in sorted(allowed - set(node)):
        result.errors.append({"path": f"{path}.{key}", "message": "missing"})
    if set(node) != allowed:
        return

    if kind in ("all", "any"):
        children = node[kind]
        if not isinstance(children, list) or not children:
            result.errors.append({"path": f"{path}.{kind}", "message": "a non-empty list of rules"})
            return
        for index, child in enumerate(children):
            _check(child, f"{path}.{kind}.{index}", depth + 1, scope, result)
    elif kind == "not":
        _check(node["not"], f"{path}.not", depth + 1, scope, result)
    elif kind in ("any_member", "count_members"):
        if scope == "member":
            result.errors.append(
                {"path": f"{path}.{kind}", "message": "not allowed inside a member rule"}
            )
            return
        _check(node[kind], f"{path}.{kind}", depth + 1, "member", result)
        if kind == "count_members":
            _check_count(node, path, result)
    else:
        _check_condition(node, path, scope, result)


def _check_count(node: Mapping[str, Any], path: str, result: Validation) -> None:
    if node["op"] not in COUNT_OPS:
        result.errors.append({"path": f"{path}.op", "message": "one of: " + ", ".join(COUNT_OPS)})
    value = node["value"]
    if not _is_int(value) or value < 0:
        result.errors.append({"path": f"{path}.value", "message": "a whole number, 0 or more"})


def _check_condition(node: Mapping[str, Any], path: str, scope: Scope, result: Validation) -> None:
    fields = _FIELDS[scope]
    name, op, value = node["field"], node["op"], node["value"]
    spec = fields.get(name) if isinstance(name, str) else None
    if spec is None:
        result.errors.append(
            {
                "path": f"{path}.field",
                "message": f"unknown {scope} field (one of: {', '.join(fields)})",
            }
        )
    if op not in OPS:
        result.errors.append({"path": f"{path}.op", "message": "one of: " + ", ".join(OPS)})
    if spec is None or op not in OPS:
        return
    if op in ORDERING_OPS and spec.type is not int:
        result.errors.append({"path": f"{path}.op", "message": f"{name} is not a number"})
        return
    if spec.type is bool and op not in ("eq", "ne"):
        result.errors.append({"path": f"{path}.op", "message": "a yes/no field takes eq or ne"})
        return
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            result.errors.append(
                {"path": f"{path}.value", "message": f"a list of 1 to {MAX_LIST} values"}
            )
            return
        for index, item in enumerate(value):
            _check_value(spec, name, item, f"{path}.value.{index}", result)
    else:
        _check_value(spec, name, value, f"{path}.value", result)


def _check_value(spec: FieldSpec, name: str, value: Any, path: str, result: Validation) -> None:
    if spec.type is bool:
        ok, expected = isinstance(value, bool), "true or false"
    elif spec.type is int:
        ok, expected = _is_int(value), "a whole number"
    else:
        ok, expected = isinstance(value, str) and 0 < len(value) <= 64, "a text value"
    if not ok:
        result.errors.append({"path": path, "message": f"{name} compares with {expected}"})
        return
    if spec.choices is not None and value not in spec.choices:
        result.errors.append(
            {"path": path, "message": f"{name} is one of: {', '.join(spec.choices)}"}
        )
    if spec.area_level is not None:
        result.area_codes.append(AreaReference(path, spec.area_level, value))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Evaluation


@dataclass(frozen=True)
class Facts:
    """A household's rule fields and its active members' (age already computed)."""

    household: Mapping[str, Any]
    members: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Outcome:
    passed: bool
    # Why it failed: the conditions that did not hold, each {path, condition, found}.
    reasons: list[dict[str, Any]]


def evaluate(rule: Mapping[str, Any], facts: Facts, path: str = "eligibility") -> Outcome:
    """Whether the household satisfies a rule `validate` accepted, and if not, why."""
    return _evaluate(rule, facts.household, facts, path)


def _evaluate(
    node: Mapping[str, Any], record: Mapping[str, Any], facts: Facts, path: str
) -> Outcome:
    if "all" in node:
        outcomes = [
            _evaluate(child, record, facts, f"{path}.all.{i}")
            for i, child in enumerate(node["all"])
        ]
        failed = [o for o in outcomes if not o.passed]
        return Outcome(not failed, [reason for o in failed for reason in o.reasons])
    if "any" in node:
        outcomes = [
            _evaluate(child, record, facts, f"{path}.any.{i}")
            for i, child in enumerate(node["any"])
        ]
        if any(o.passed for o in outcomes):
            return Outcome(True, [])
        return Outcome(False, [reason for o in outcomes for reason in o.reasons])
    if "not" in node:
        inner = _evaluate(node["not"], record, facts, f"{path}.not")
        if not inner.passed:
            return Outcome(True, [])
        return Outcome(False, [_reason(path, node, "the condition holds")])
    if "any_member" in node:
        if any(_evaluate(node["any_member"], m, facts, path).passed for m in facts.members):
            return Outcome(True, [])
        return Outcome(False, [_reason(path, node, "no member matches")])
    if "count_members" in node:
        count = sum(
            1 for m in facts.members if _evaluate(node["count_members"], m, facts, path).passed
        )
        if _compare(count, node["op"], node["value"]):
            return Outcome(True, [])
        return Outcome(False, [_reason(path, node, count)])
    actual = record.get(node["field"])
    if _compare(actual, node["op"], node["value"]):
        return Outcome(True, [])
    # A member's own values stay out of the reasons: the any_member/count_members node
    # above reports the result for the household.
    return Outcome(False, [_reason(path, node, actual)])


def _compare(actual: Any, op: str, value: Any) -> bool:
    if op == "eq":
        return actual == value
    if op == "ne":
        return actual != value
    if op == "in":
        return actual in value
    if op == "not_in":
        return actual not in value
    if actual is None:
        return False  # an unknown number is neither below nor above anything
    if op == "lt":
        return actual < value
    if op == "le":
        return actual <= value
    if op == "gt":
        return actual > value
    return actual >= value  # ge


def _reason(path: str, node: Mapping[str, Any], found: Any) -> dict[str, Any]:
    return {"path": path, "condition": describe(node), "found": found}


def describe(node: Mapping[str, Any]) -> str:
    """A rule as one readable line, for explaining a refusal."""
    if "all" in node:
        return "all(" + "; ".join(describe(child) for child in node["all"]) + ")"
    if "any" in node:
        return "any(" + "; ".join(describe(child) for child in node["any"]) + ")"
    if "not" in node:
        return "not(" + describe(node["not"]) + ")"
    if "any_member" in node:
        return "any member: " + describe(node["any_member"])
    if "count_members" in node:
        inner = describe(node["count_members"])
        return f"number of members with {inner} {node['op']} {node['value']}"
    return f"{node['field']} {node['op']} {orjson.dumps(node['value']).decode()}"
