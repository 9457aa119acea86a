"""The shared rate limit's SQL: one statement counts what a gateway process has waiting,
for every caller at once; one row per recent caller. Run on the driver's connection
(`Database.autocommit_driver`): each statement is its own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# GCRA (a token bucket kept as one timestamp): each allowed request moves the caller's
# `full_at` one `step` later (from now, if it had passed), and requests are allowed while
# that stays within `span` (the burst's worth of steps) of now: of `wanted` requests, as many
# as fit. ON CONFLICT locks each caller's row, so gateway processes counting one caller at
# once are counted one after another, each against the one before; callers are taken in
# one order, so two processes never wait for each other's rows crosswise. The database's
# clock is the one every replica shares. A small epsilon keeps a whole number of steps that
# float arithmetic would make 2.9999… from rounding down.
_TAKE = """
    WITH wanted AS (
        SELECT * FROM unnest($1::text[], $2::int[], $3::float8[], $4::float8[])
            AS w(caller, requests, step, span)
    )
    INSERT INTO rate_limit AS r (caller, full_at, granted)
    SELECT w.caller, statement_timestamp() + make_interval(secs => w.step * g.n), g.n
      FROM wanted w,
           LATERAL (SELECT least(w.requests, floor(w.span / w.step + 1e-9))::int AS n) g
     ORDER BY w.caller
    ON CONFLICT (caller) DO UPDATE SET (full_at, granted) = (
        SELECT greatest(r.full_at, statement_timestamp()) + make_interval(secs => w.step * g.n),
               g.n
          FROM wanted w,
               LATERAL (
                   SELECT greatest(0, least(w.requests, floor(
                       (extract(epoch FROM statement_timestamp()
                                           - greatest(r.full_at, statement_timestamp()))::float8
                        + w.span) / w.step + 1e-9)))::int AS n
               ) g
         WHERE w.caller = excluded.caller
    )
    RETURNING caller, granted, extract(epoch FROM full_at - statement_timestamp())::float8
"""
# Callers whose allowance is whole again: their row says nothing an absent one does not.
# Rows being counted right now are left for the next sweep (SKIP LOCKED): the sweep never
# waits, so it can never be one of two statements waiting for each other's rows.
_FORGET_IDLE = """
    DELETE FROM rate_limit WHERE caller IN (
        SELECT caller FROM rate_limit WHERE full_at < statement_timestamp()
           FOR UPDATE SKIP LOCKED
    )
"""


@dataclass(frozen=True)
class Wanted:
    caller: str
    requests: int
    step: float  # seconds between two requests on average (1 / rate)
    span: float  # the burst's worth of steps


@dataclass(frozen=True)
class Granted:
    requests: int  # of those wanted, how many are allowed (the first ones)
    ahead: float  # seconds from now to the caller's `full_at`


async def take(connection: Any, wanted: Sequence[Wanted]) -> dict[str, Granted]:
    """Spend the requests `wanted` (one entry per caller), each caller's allowed as far as
    its allowance goes."""
    rows = await connection.fetch(
        _TAKE,
        [w.caller for w in wanted],
        [w.requests for w in wanted],
        [w.step for w in wanted],
        [w.span for w in wanted],
    )
    return {row[0]: Granted(row[1], row[2]) for row in rows}


async def forget_idle(connection: Any) -> None:
    await connection.execute(_FORGET_IDLE)
