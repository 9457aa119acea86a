"""One `search_request[]` item read into what the registry searches: its conditions (from an
`idtype-value` or a `predicate` query), order and page, each problem answered with the
standard's reason code. Everything is judged against the caller's agreement: a query type,
an id type or an attribute it does not cover is refused, never searched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from services.beneficiaries.dci import attributes, codes
from services.beneficiaries.dci.messages import Rejected, parse_timestamp
from services.beneficiaries.models import Household, Identifier, Individual
from services.beneficiaries.partners.scope import PartnerScope
from services.beneficiaries.records.schemas import normalise_identifier

MAX_PREDICATES = 20


@dataclass
class Criteria:
    reference_id: str
    entity: str  # "Group" or "Member"
    conditions: list[ColumnElement[bool]]
    order_by: list[Any]
    page_size: int
    page_number: int
    paginated: bool
    locale: str | None
    # What the search finds, as sent (the entity, query type and query): the same for
    # every page of one search.
    signature: str = ""


def read_request(item: Any, seen: set[str], scope: PartnerScope, *, max_page_size: int) -> Criteria:
    if not isinstance(item, dict):
        raise Rejected(codes.SEARCH_CRITERIA_INVALID, "A search request is an object.")
    reference_id = item.get("reference_id")
    if not isinstance(reference_id, str) or not reference_id.strip() or len(reference_id) > 99:
        raise Rejected(
            codes.REFERENCE_ID_INVALID,
            "reference_id is a non-empty string (at most 99 characters).",
        )
    if reference_id in seen:
        raise Rejected(
            codes.REFERENCE_ID_DUPLICATE,
            "reference_id is used by an earlier request of this message.",
        )
    seen.add(reference_id)
    if parse_timestamp(item.get("timestamp")) is None:
        raise Rejected(
            codes.TIMESTAMP_INVALID, "timestamp is an ISO 8601 date-time with a time zone."
        )
    criteria = item.get("search_criteria")
    if not isinstance(criteria, dict):
        raise Rejected(codes.SEARCH_CRITERIA_INVALID, "search_criteria is required (an object).")
    if criteria.get("version") not in (None, codes.VERSION):
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID, f"search_criteria.version is {codes.VERSION}."
        )
    entity = _entity(criteria.get("response_entity"))
    query_type = criteria.get("query_type")
    if query_type not in codes.QUERY_TYPES:
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID,
            "query_type is one of idtype-value, expression, predicate.",
        )
    if query_type not in scope.query_types:
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID, f"Your agreement does not allow {query_type} searches."
        )
    query = criteria.get("query")
    if query_type == "idtype-value":
        conditions = [_idtype_value(query, scope, entity)]
    elif query_type == "predicate":
        conditions = _predicates(query, scope, entity)
    else:
        conditions = [_expression_query(query, scope, entity)]
    order_by = _sort(criteria.get("sort"), scope, entity)
    page_size, page_number, paginated = _pagination(criteria.get("pagination"), max_page_size)
    locale = item.get("locale")
    return Criteria(
        reference_id=reference_id,
        entity=entity,
        conditions=conditions,
        order_by=order_by,
        page_size=page_size,
        page_number=page_number,
        paginated=paginated,
        locale=locale if isinstance(locale, str) and len(locale) <= 16 else None,
        signature=orjson.dumps([entity, query_type, query], option=orjson.OPT_SORT_KEYS).decode(),
    )


def _entity(value: Any) -> str:
    if value is None:
        return "Group"
    if isinstance(value, str):
        for entity in codes.RESPONSE_ENTITIES:
            if value.lower() == entity.lower():
                return entity
    raise Rejected(codes.SEARCH_CRITERIA_INVALID, "response_entity is Group or Member.")


def _idtype_value(query: Any, scope: PartnerScope, entity: str) -> ColumnElement[bool]:
    if not isinstance(query, dict):
        raise Rejected(codes.SEARCH_CRITERIA_INVALID, "An idtype-value query is {type, value}.")
    id_type, value = query.get("type"), query.get("value")
    field = codes.ID_TYPES.get(id_type) if isinstance(id_type, str) else None
    if field is None or not scope.allows(field):
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID,
            f"id type {id_type!r} is not one your agreement lets you search by",
        )
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise Rejected(codes.SEARCH_CRITERIA_INVALID, "value is the identifier (a string).")
    if field == "registry_number":
        return Household.registry_number == value.strip().upper()
    try:
        normalised = normalise_identifier(field, value.strip())
    except ValueError as exc:
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID, f"value is not a valid {id_type}: {exc}"
        ) from exc
    # The few people holding the identifier, found through its index first: as a
    # correlated EXISTS the planner would test every household of the registry instead.
    holders = select(Identifier.individual_id).where(
        Identifier.type == field, Identifier.value == normalised
    )
    if entity == "Member":
        return Individual.id.in_(holders)
    return Household.id.in_(
        select(Individual.household_id).where(
            Individual.id.in_(holders), *scope.person_conditions(Individual)
        )
    )


def _expression(expression: Any, scope: PartnerScope, entity: str) -> ColumnElement[bool]:
    if not isinstance(expression, dict):
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID,
            "An expression is {attribute_name, operator, attribute_value}.",
        )
    missing = [k for k in ("attribute_name", "operator", "attribute_value") if k not in expression]
    if missing:
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID, "An expression needs " + ", ".join(missing) + "."
        )
    try:
        return attributes.condition(
            expression["attribute_name"],
            expression["operator"],
            expression["attribute_value"],
            scope,
            entity=entity,
        )
    except attributes.AttributeError_ as exc:
        raise Rejected(codes.SEARCH_CRITERIA_INVALID, str(exc)) from exc


def _predicates(query: Any, scope: PartnerScope, entity: str) -> list[ColumnElement[bool]]:
    """ExpPredicateWithConditionList: each item is `expression1 [condition expression2]`
    (`not` negates expression1 when there is no expression2, else means "and not"); the
    items all hold, taken in `seq_num` order."""
    if isinstance(query, dict):
        query = [query]
    if not isinstance(query, list) or not query:
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID,
            "A predicate query is a list of {expression1, condition, expression2}.",
        )
    if len(query) > MAX_PREDICATES:
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID, f"A predicate query has at most {MAX_PREDICATES} items."
        )
    if not all(isinstance(item, dict) for item in query):
        raise Rejected(codes.SEARCH_CRITERIA_INVALID, "Each predicate is an object.")

    def order(item: dict[str, Any]) -> float:
        seq = item.get("seq_num", 0)
        return float(seq) if isinstance(seq, int | float) and not isinstance(seq, bool) else 0.0

    conditions = []
    for item in sorted(query, key=order):
        first = _expression(item.get("expression1"), scope, entity)
        condition = item.get("condition")
        second = item.get("expression2")
        if condition is None and second is None:
            conditions.append(first)
            continue
        if condition not in codes.CONDITIONS:
            raise Rejected(codes.SEARCH_CRITERIA_INVALID, "condition is and, or or not.")
        if second is None:
            if condition != "not":
                raise Rejected(
                    codes.SEARCH_CRITERIA_INVALID, f"condition {condition!r} needs expression2."
                )
            conditions.append(not_(first))
            continue
        other = _expression(second, scope, entity)
        conditions.append(
            and_(first, other)
            if condition == "and"
            else or_(first, other)
            if condition == "or"
            else and_(first, not_(other))
        )
    return conditions


_EXPRESSION_OPERATORS = {
    "$eq": "eq",
    "$lt": "lt",
    "$gt": "gt",
    "$le": "le",
    "$lte": "le",
    "$ge": "ge",
    "$gte": "ge",
    "$in": "in",
}
MAX_EXPRESSION_TERMS = 20


def _expression_query(query: Any, scope: PartnerScope, entity: str) -> ColumnElement[bool]:
    """An `expression` query (ExpTemplate: `{type, value: {expression: {collection,
    query}}}`) where it maps onto the predicate attributes: `$and`, `$or`, `$not` over
    `{attribute: {$eq|$lt|$gt|$le|$ge|$in: value}}` terms."""
    value = query.get("value") if isinstance(query, dict) else None
    expression = value.get("expression") if isinstance(value, dict) else None
    if not isinstance(expression, dict) or not isinstance(expression.get("query"), dict):
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID,
            "An expression query is {type, value: {expression: {collection, query}}}.",
        )
    collection = expression.get("collection")
    if collection is not None and (
        not isinstance(collection, str) or collection.lower() != entity.lower()
    ):
        raise Rejected(
            codes.SEARCH_CRITERIA_INVALID,
            f"expression.collection is the response_entity ({entity}).",
        )
    terms = [0]

    def node(part: Any, depth: int) -> ColumnElement[bool]:
        if not isinstance(part, dict) or not part or depth > 5:
            raise Rejected(
                codes.SEARCH_CRITERIA_INVALID, "An expression is an object, 5 deep at most."
            )
        clauses = []
        for key, operand in part.items():
            if key in ("$and", "$or"):
                if not isinstance(operand, list) or not operand:
                    raise Rejected(codes.SEARCH_CRITERIA_INVALID, f"{key} takes a list.")
                inner = [node(item, depth + 1) for item in operand]
                clauses.append(and_(*inner) if key == "$and" else or_(*inner))
            elif key == "$not":
                clauses.append(not_(node(operand, depth + 1)))
            else:
                if not isinstance(operand, dict) or len(operand) != 1:
                    raise Rejected(
                        codes.SEARCH_CRITERIA_INVALID,
                        f"{key!r} takes one operator: {{$eq|$lt|$gt|$le|$ge|$in: value}}.",
                    )
                [(operator, operand_value)] = operand.items()
                if operator not in _EXPRESSION_OPERATORS:
                    raise Rejected(
                        codes.SEARCH_CRITERIA_INVALID, f"operator {operator!r} is not supported."
                    )
                terms[0] += 1
                if terms[0] > MAX_EXPRESSION_TERMS:
                    raise Rejected(
                        codes.SEARCH_CRITERIA_INVALID,
                        f"An expression has at most {MAX_EXPRESSION_TERMS} terms.",
                    )
                clauses.append(
                    _expression(
                        {
                            "attribute_name": key,
                            "operator": _EXPRESSION_OPERATORS[operator],
                            "attribute_value": operand_value,
                        },
                        scope,
                        entity,
                    )
                )
        return and_(*clauses)

    return node(expression["query"], 0)


def _sort(sort: Any, scope: PartnerScope, entity: str) -> list[Any]:
    if sort in (None, "", []):
        return []
    if not isinstance(sort, list) or len(sort) > 5:
        raise Rejected(
            codes.SORT_INVALID, "sort is a list of at most 5 {attribute_name, sort_order}."
        )
    order_by = []
    for item in sort:
        if not isinstance(item, dict):
            raise Rejected(codes.SORT_INVALID, "Each sort is {attribute_name, sort_order}.")
        direction = item.get("sort_order", "asc")
        if direction not in codes.SORT_ORDERS:
            raise Rejected(codes.SORT_INVALID, "sort_order is asc or desc.")
        try:
            column = attributes.sort_column(item.get("attribute_name"), scope, entity=entity)
        except attributes.AttributeError_ as exc:
            raise Rejected(codes.SORT_INVALID, str(exc)) from exc
        ordered = column.desc() if direction == "desc" else column.asc()
        # Empty values last; a column that has none is ordered as its index is (which
        # NULLS LAST on a descending order would keep the database from reading).
        order_by.append(ordered.nulls_last() if _nullable(column) else ordered)
    return order_by


def _nullable(column: Any) -> bool:
    return bool(getattr(getattr(column, "expression", column), "nullable", True))


def _pagination(pagination: Any, max_page_size: int) -> tuple[int, int, bool]:
    if pagination in (None, ""):
        return max_page_size, 1, False
    if not isinstance(pagination, dict):
        raise Rejected(codes.PAGINATION_INVALID, "pagination is {page_size, page_number}.")
    size, number = pagination.get("page_size"), pagination.get("page_number", 1)

    def whole(value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return None

    page_size, page_number = whole(size), whole(number)
    if page_size is None or not 1 <= page_size <= max_page_size:
        raise Rejected(
            codes.PAGINATION_INVALID,
            f"pagination.page_size is a whole number from 1 to {max_page_size}.",
        )
    if page_number is None or not 1 <= page_number <= 1_000_000:
        raise Rejected(codes.PAGINATION_INVALID, "pagination.page_number is a whole number from 1.")
    return page_size, page_number, True
