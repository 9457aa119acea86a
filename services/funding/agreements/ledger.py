"""An agreement's balance, moved only by conditional UPDATEs of its row: what it received,
what approved payrolls hold in reserve, what was paid out. The row lock each UPDATE takes
orders concurrent changes, and the table's check constraint (reserved + paid <= received)
refuses any that would spend money not received, whatever the code above does.

Amounts are in the agreement's currency, in minor units.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Numeric, cast, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import Agreement
from shared.errors import Conflict
from shared.money import MAX_MINOR


class InsufficientFunds(Conflict):
    type, title = "insufficient-funds", "Insufficient funds"


class BalanceMismatch(Conflict):
    type, title = "agreement-balance-mismatch", "The agreement's balance does not allow this"


async def receive(session: AsyncSession, agreement_id: uuid.UUID, amount_minor: int) -> None:
    """Funds received (negative: a receipt reversed). A reversal that would leave reserved
    and paid money uncovered is refused."""
    try:
        async with session.begin_nested():
            await session.execute(
                update(Agreement)
                .where(Agreement.id == agreement_id)
                .values(received_minor=Agreement.received_minor + amount_minor)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError as exc:
        raise InsufficientFunds(
            "This would leave payments reserved or made without the funds received for them."
        ) from exc


async def reserve(session: AsyncSession, agreement_id: uuid.UUID, amount_minor: int) -> bool:
    """Hold `amount_minor` for a payroll if the agreement is active and has it available
    (received, less what is reserved and paid); whether it was held. The sum is compared in
    numeric, not bigint: an amount near the bigint limit is refused, not an overflow."""
    if not 0 <= amount_minor <= MAX_MINOR:
        return False
    held = await session.scalar(
        update(Agreement)
        .where(
            Agreement.id == agreement_id,
            Agreement.status == "active",
            cast(Agreement.reserved_minor, Numeric) + Agreement.paid_minor + amount_minor
            <= Agreement.received_minor,
        )
        .values(reserved_minor=Agreement.reserved_minor + amount_minor)
        .returning(Agreement.id)
        .execution_options(synchronize_session=False)
    )
    return held is not None


async def settle(
    session: AsyncSession,
    agreement_id: uuid.UUID,
    *,
    paid: int = 0,
    released: int = 0,
    refunded: int = 0,
) -> None:
    """Reserved money settles: `paid` out to households, `released` (lines that failed, a
    cancelled payroll) back to what is available; `refunded`: payments reversed, no longer
    paid. A settlement the balance cannot take (more settled than reserved, more refunded
    than paid: the cycle and the agreement disagree) is refused with a 409, and nothing
    moves."""
    try:
        async with session.begin_nested():
            await session.execute(
                update(Agreement)
                .where(Agreement.id == agreement_id)
                .values(
                    reserved_minor=Agreement.reserved_minor - paid - released,
                    paid_minor=Agreement.paid_minor + paid - refunded,
                )
                .execution_options(synchronize_session=False)
            )
    except IntegrityError as exc:
        raise BalanceMismatch(
            "The agreement's balance does not match this payroll: it holds less in reserve "
            "or has paid less than the payroll settles. Nothing was changed; the agreement's "
            "balance needs checking."
        ) from exc
