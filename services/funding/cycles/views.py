"""Rows of the payment-cycle tables as the API answers them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.funding.cycles.schemas import (
    ApprovalRates,
    BuildProgress,
    Cycle,
    Line,
    Payee,
    RegionTotals,
    StatusTotals,
    Summary,
)
from services.funding.models import PaymentCycle, PaymentLine
from shared.money import Money


def cycle_view(cycle: PaymentCycle, agreement_currency: str) -> Cycle:
    rates = None
    if cycle.cycle_rate_to_djf is not None and cycle.agreement_rate_to_djf is not None:
        rates = ApprovalRates(
            cycle_currency=cycle.currency,
            cycle_rate_to_djf=cycle.cycle_rate_to_djf,
            agreement_currency=agreement_currency,
            agreement_rate_to_djf=cycle.agreement_rate_to_djf,
        )
    return Cycle(
        id=cycle.id,
        reference=cycle.reference,
        programme=cycle.programme_code,
        period=cycle.period,
        agreement_id=cycle.agreement_id,
        payment_provider_id=cycle.payment_provider_id,
        status=cycle.status,  # type: ignore[arg-type]
        benefit=Money(cycle.benefit_minor, cycle.currency),
        build=BuildProgress(
            status=cycle.build_status,  # type: ignore[arg-type]
            message=cycle.build_message,
            enrollments_read=cycle.enrollments_read,
            started_at=cycle.build_started_at,
            heartbeat_at=cycle.build_heartbeat_at,
            finished_at=cycle.build_finished_at,
        ),
        lines_count=cycle.lines_count,
        total=Money(cycle.total_minor, cycle.currency),
        excluded=dict(cycle.excluded or {}),
        reserved=Money(cycle.reserved_minor, agreement_currency),
        rates=rates,
        version=cycle.version,
        created_by=cycle.created_by,
        created_at=cycle.created_at,
        updated_at=cycle.updated_at,
        approved_by=cycle.approved_by,
        approved_at=cycle.approved_at,
        sent_by=cycle.sent_by,
        sent_at=cycle.sent_at,
        closed_at=cycle.closed_at,
        cancelled_at=cycle.cancelled_at,
        cancel_reason=cycle.cancel_reason,
    )


def line_view(line: PaymentLine) -> Line:
    payee = Payee(
        individual_id=line.payee_id,
        given_name=line.payee_given_name,
        father_name=line.payee_father_name,
        grandfather_name=line.payee_grandfather_name,
        phone=line.payee_phone,
    )
    return Line(
        line_no=line.line_no,
        reference=line.reference,
        household_id=line.household_id,
        registry_number=line.registry_number,
        enrollment_id=line.enrollment_id,
        region_code=line.region_code,
        locality_code=line.locality_code,
        amount=Money(line.amount_minor, line.currency),
        status=line.status,  # type: ignore[arg-type]
        provider_reference=line.provider_reference,
        settled_on=line.settled_on,
        status_changed_at=line.status_changed_at,
        payee=payee,
    )


def summary_view(cycle: PaymentCycle, rows: Sequence[Any]) -> Summary:
    """The cycle's totals from the rows of lines.totals (its GROUPING SETS)."""
    currency = cycle.currency

    def totals(selected: Sequence[Any]) -> list[StatusTotals]:
        return [
            StatusTotals(
                status=row.status, lines=row.lines, amount=Money(row.amount_minor, currency)
            )
            for row in selected
        ]

    by_status = totals([row for row in rows if row.all_regions and not row.all_statuses])
    by_region = [
        RegionTotals(
            region_code=row.region_code,
            lines=row.lines,
            amount=Money(row.amount_minor, currency),
            by_status=totals(
                [
                    other
                    for other in rows
                    if not other.all_regions
                    and not other.all_statuses
                    and other.region_code == row.region_code
                ]
            ),
        )
        for row in rows
        if row.all_statuses and not row.all_regions
    ]
    return Summary(
        cycle_id=cycle.id,
        reference=cycle.reference,
        status=cycle.status,  # type: ignore[arg-type]
        lines=sum(item.lines for item in by_status),
        amount=sum((item.amount for item in by_status), Money.zero(currency)),
        by_status=by_status,
        by_region=by_region,
    )
