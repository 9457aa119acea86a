"""What the gateway makes sure of at start: the `admin` client on first start, and the
configured clients (the services' own identities, demo clients) with their current secrets."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.accounts import repository
from services.gateway.accounts.secrets import hash_secret, verify_secret
from services.gateway.config import BootstrapClient, GatewaySettings
from services.gateway.models import Account
from shared.db import Database
from shared.logs import get_logger

_log = get_logger("inds.gateway.bootstrap")
_BOOTSTRAP_LOCK_ID = 0x494E44530002


async def ensure_accounts(database: Database, settings: GatewaySettings) -> None:
    clients = list(settings.bootstrap_clients)
    async with database.sessionmaker() as session, session.begin():
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _BOOTSTRAP_LOCK_ID})
        admin = await repository.get(session, "client", "admin")
        if admin is None:
            if settings.bootstrap_admin_secret is None:
                _log.warning(
                    "no admin client and no INDS_BOOTSTRAP_ADMIN_SECRET: nobody can administer"
                )
            else:
                clients.insert(
                    0,
                    BootstrapClient(
                        client_id="admin",
                        secret=settings.bootstrap_admin_secret,
                        roles=["admin"],
                        name="Bootstrap administrator",
                    ),
                )
        for client in clients:
            await _upsert(session, client)


async def _upsert(session: AsyncSession, client: BootstrapClient) -> None:
    secret = client.secret.get_secret_value()
    account = await repository.get(session, "client", client.client_id)
    if account is None:
        repository.add(
            session,
            Account(
                kind="client",
                login=client.client_id,
                display_name=client.name or client.client_id,
                secret_hash=await hash_secret(secret),
                roles=sorted(set(client.roles)),
                regions=sorted(set(client.regions)),
                partner_id=client.partner_id,
                secret_changed_at=datetime.now(UTC),
                created_by="bootstrap",
            ),
        )
        _log.info("bootstrap client created", login=client.client_id, roles=client.roles)
        return
    account.roles = sorted(set(client.roles))
    account.regions = sorted(set(client.regions))
    account.partner_id = client.partner_id
    account.disabled_at = None
    if not await verify_secret(account.secret_hash, secret):
        account.secret_hash = await hash_secret(secret)
        account.secret_changed_at = datetime.now(UTC)
        _log.info("bootstrap client secret updated", login=client.client_id)
