"""Async engine, session factory and the per-request session dependencies.

Services `flush()` when they need ids and never commit: the dependency commits when the
endpoint returns and rolls back when it raises, before the response is sent, so a client
never sees a success for a write that did not land.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, func, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class DatabaseUnreachable(Exception):
    """No connection to the database could be opened (it is down, restarting, starting up
    or refusing connections): nothing was sent, so nothing was done."""


def _connect_or_unreachable(
    dialect: Dialect, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """The pool's new connection; any failure to open one is `DatabaseUnreachable` (the
    driver raises OSError for a socket that is gone, its own errors for a server starting
    up or shutting down)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError, dialect.loaded_dbapi.Error) as exc:
        raise DatabaseUnreachable(type(exc).__name__) from exc


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        application_name: str = "inds",
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=1800,
            connect_args={"server_settings": {"application_name": application_name}},
        )
        event.listen(self.engine.sync_engine, "do_connect", _connect_or_unreachable)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads that need no transaction skip BEGIN and COMMIT: two round trips fewer on
        # the hottest paths.
        self.reader = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        self._owns_engine = True
        self._bound: AsyncConnection | None = None

    @classmethod
    def bound_to(cls, connection: AsyncConnection) -> Database:
        """Sessions that work inside `connection`'s open transaction, committing only
        savepoints: what tests use so each test rolls back."""
        database = cls.__new__(cls)
        database.engine = connection.engine
        database.sessionmaker = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        database.reader = database.sessionmaker
        database._owns_engine = False
        database._bound = connection
        return database

    @asynccontextmanager
    async def autocommit_driver(self) -> AsyncIterator[Any]:
        """An asyncpg connection from the pool, in no transaction (each statement commits
        on its own), for a statement run on every request: a third of a millisecond of CPU
        less than an ORM session's. Bound to a test's connection, that one, in its
        transaction (statements run one at a time on it)."""
        if self._bound is not None:
            yield (await self._bound.get_raw_connection()).driver_connection
            return
        async with self.engine.connect() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection
            try:
                yield driver
            except BaseException:
                if driver.is_closed():  # lost (a restart): not back into the pool
                    await connection.invalidate()
                raise

    async def ping(self) -> None:
        async with self.sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._owns_engine:
            await self.engine.dispose()


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under `session`, in its transaction: for COPY and for
    statements that send thousands of values as one array parameter, where the ORM's
    statement machinery costs more than the query."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


# A condition that always holds and lets the transaction of the statement it is in commit
# without waiting for the disk: `set_config(…, true)` is SET LOCAL synchronous_commit = off,
# said inside the statement (no round trip of its own). Only for writes whose last fraction
# of a second a crash may lose (partners' usage counts), never for data or security records.
NO_DISK_WAIT = func.set_config("synchronous_commit", "off", True).is_not(None)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error SQLAlchemy raised (asyncpg's error, or the one its
    adapter wraps): "23505" for a unique violation, "40001" for a serialization failure."""
    driver_error = getattr(exc, "orig", None)
    for cause in (driver_error, getattr(driver_error, "__cause__", None)):
        state = getattr(cause, "sqlstate", None)
        if state:
            return str(state)
    return None


def database_of(request: Request) -> Database:
    return request.app.state.database


# The app's database, for work that needs sessions of its own (an export's audit row,
# written after its read transaction ends).
DatabaseOf = Annotated[Database, Depends(database_of)]


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).reader() as session:
        yield session


async def _stream_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).sessionmaker() as session:
        try:
            yield session
        finally:
            await session.rollback()


# Committed when the endpoint returns, before the response goes out.
DbSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]
# For endpoints that only read: no transaction, each statement sees committed data.
ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]
# Lives until a streamed response has been sent; never commits.
StreamSession = Annotated[AsyncSession, Depends(_stream_session, scope="request")]
