"""Registering many new households at once (an import batch, a sync batch's new
households): written with COPY, their people flagged for probable duplicates in a few
statements, an audit row and a registration event (for partners' subscriptions) each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from services.beneficiaries.callbacks import events
from services.beneficiaries.context import WriteContext
from services.beneficiaries.dedup.service import flag_many, people_of
from services.beneficiaries.models import AdminArea
from services.beneficiaries.pmt.scoring import Formula
from services.beneficiaries.records.bulk import Rows, Written, copy_rows, prepare_rows
from services.beneficiaries.records.schemas import HouseholdWrite


async def register_households(
    ctx: WriteContext,
    households: Sequence[HouseholdWrite],
    localities: dict[str, AdminArea],
    *,
    formula: Formula | None,
    action: str,
    detail: Callable[[HouseholdWrite], dict[str, Any]],
    start_reason: str = "registered",
    rows: Rows | None = None,
) -> tuple[Written, int]:
    """The households, checked by the caller, written in its transaction (from `rows` when
    the caller prepared them: records/bulk.prepare_rows). Returns what was written and the
    number of pairs flagged."""
    session, principal, settings = ctx.session, ctx.principal, ctx.settings
    if rows is None:
        rows = prepare_rows(
            households,
            localities,
            actor=principal.subject,
            formula=formula,
            start_reason=start_reason,
        )
    written = await copy_rows(session, rows)
    flagged = await flag_many(
        session,
        people_of(households, localities),
        threshold=settings.dedup_threshold,
        window=settings.dedup_birth_year_window,
    )
    # The COPY records' first column is the household's id.
    await events.registrations(session, [record[0] for record in rows.households])
    await ctx.audit.record_writes(
        session,
        [ctx.audit.row(principal, action, "household", h.id, h.id, detail(h)) for h in households],
    )
    return written, flagged
