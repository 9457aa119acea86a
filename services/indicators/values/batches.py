"""Which asks go to a service in one request: the asks of one batch of measures (the
registry's measures of people) with the same grouping and filters, their parameters (the
poverty lines) agreeing, are one `measures=` request; every other ask is a request of its
own."""

from __future__ import annotations

from collections.abc import Sequence

from services.indicators.values.asks import Ask


def batched(asks: Sequence[Ask]) -> list[list[Ask]]:
    """The requests to send: one per ask, but one for the asks of a batch with the same
    grouping and filters (their parameters agreeing)."""
    requests: list[list[Ask]] = []
    batches: dict[tuple[object, ...], list[list[Ask]]] = {}
    for ask in asks:
        if ask.batch is None:
            requests.append([ask])
            continue
        candidates = batches.setdefault((ask.batch_key(), ask.group_by), [])
        home = next((batch for batch in candidates if _agree(batch, ask)), None)
        if home is None:
            home = []
            candidates.append(home)
            requests.append(home)
        home.append(ask)
    return requests


def _parameters(ask: Ask) -> dict[str, tuple[str, ...]]:
    return {name: values for name, values in ask.filters if name in ask.parameter_names}


def _agree(batch: list[Ask], ask: Ask) -> bool:
    given = _parameters(ask)
    return all(
        given.get(name, values) == values
        for other in batch
        for name, values in _parameters(other).items()
    )


def batch_filters(batch: list[Ask]) -> dict[str, tuple[str, ...]]:
    """The batch's common filters and every parameter one of its measures takes."""
    filters: dict[str, tuple[str, ...]] = {}
    for ask in batch:
        filters.update(ask.filters)
    return filters
