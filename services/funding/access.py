"""Who may do what with the ministry's money.

- finance_officer (and admin): organisations, projects, agreements, transactions, exchange
  rates and payment cycles: create, change, build, send;
- finance_approver: approves payrolls and applies providers' reports; never a payroll they
  created themselves (four eyes), and an admin is not an approver;
- analyst: reports and statistics only (never a payee's name or phone);
- partner: the projects, agreements and transactions of their own organisation;
- service (another INDS service): statistics, and the exchange rate in force on a day.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_roles

OFFICERS = ("admin", "finance_officer")
FINANCE = (*OFFICERS, "finance_approver")
# Who reads payment statistics exactly: whoever may read the payrolls, and the INDS services;
# analysts get small cells withheld (shared/disclosure.py).
EXACT_STATS_ROLES = (*FINANCE, "service")

Officer = Annotated[Principal, Depends(require_roles(*OFFICERS))]
Approver = Annotated[Principal, Depends(require_roles("finance_approver"))]
# Who stops a payroll before it is sent, with a reason: officers cancel it, approvers refuse it.
Canceller = Annotated[Principal, Depends(require_roles(*FINANCE))]
# Who reads the ledger: finance staff, and partners their own part of it.
LedgerReader = Annotated[Principal, Depends(require_roles(*FINANCE, "partner"))]
# Who reads payrolls, payees included.
PayrollReader = Annotated[Principal, Depends(require_roles(*FINANCE))]
ReportReader = Annotated[Principal, Depends(require_roles(*FINANCE, "analyst", "partner"))]
StatsReader = Annotated[Principal, Depends(require_roles(*FINANCE, "analyst", "service"))]
# The rates themselves are no one's business secret: the indicators service converts a plan's
# costs with them, as the ledger converts its amounts.
RateReader = Annotated[Principal, Depends(require_roles(*FINANCE, "analyst", "partner", "service"))]
AuditReader = Annotated[Principal, Depends(require_roles(*FINANCE))]


def partner_scope(principal: Principal) -> str | None:
    """The partner a partner token is limited to (its own partner id; a partner token without
    one sees nothing), or None for everyone else who gets this far: finance staff read every
    record, analysts and services every figure."""
    if "partner" in principal.roles and not principal.has_any_role(FINANCE):
        return principal.partner_id or ""
    return None
