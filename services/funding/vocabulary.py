"""The funding service's closed lists, each defined once, with the IATI 2.03 codes they map to
(codelists: OrganisationType, OrganisationRole, ActivityStatus, TransactionType)."""

from __future__ import annotations

from typing import Literal, get_args

OrganisationType = Literal[
    "multilateral", "un_agency", "bilateral", "ngo", "government", "payment_provider"
]
ORGANISATION_TYPES: tuple[str, ...] = get_args(OrganisationType)
# IATI OrganisationType: 40 Multilateral, 10 Government, 21 International NGO, 70 Private
# Sector (mobile-money operators and banks).
IATI_ORGANISATION_TYPE = {
    "multilateral": "40",
    "un_agency": "40",
    "bilateral": "10",
    "ngo": "21",
    "government": "10",
    "payment_provider": "70",
}

# IATI OrganisationRole.
ParticipantRole = Literal[1, 2, 3, 4]
PARTICIPANT_ROLES = {1: "Funding", 2: "Accountable", 3: "Extending", 4: "Implementing"}

# IATI ActivityStatus.
ActivityStatus = Literal[1, 2, 3, 4, 5, 6]
ACTIVITY_STATUSES = {
    1: "Pipeline/identification",
    2: "Implementation",
    3: "Finalisation",
    4: "Closed",
    5: "Cancelled",
    6: "Suspended",
}

# IATI TransactionType (5-10 are loan and equity codes, not used here).
TransactionType = Literal[1, 2, 3, 4, 11, 12, 13]
TRANSACTION_TYPES = {
    1: "Incoming Funds",
    2: "Outgoing Commitment",
    3: "Disbursement",
    4: "Expenditure",
    11: "Incoming Commitment",
    12: "Outgoing Pledge",
    13: "Incoming Pledge",
}
INCOMING_FUNDS, DISBURSEMENT, EXPENDITURE = 1, 3, 4

AgreementStatus = Literal["active", "closed", "cancelled"]
AGREEMENT_STATUSES: tuple[str, ...] = get_args(AgreementStatus)

# A payment cycle: draft -> approved -> sent -> reconciling -> closed; cancelled before sent.
CycleStatus = Literal["draft", "approved", "sent", "reconciling", "closed", "cancelled"]
CYCLE_STATUSES: tuple[str, ...] = get_args(CycleStatus)
# Building a draft's payroll, in the background.
BuildStatus = Literal["queued", "building", "built", "failed"]
BUILD_STATUSES: tuple[str, ...] = get_args(BuildStatus)
# A payment line: pending until the provider's report settles it. Failed and reversed lines
# may be paid again in a later cycle; cancelled ones belonged to a cancelled cycle.
LineStatus = Literal["pending", "paid", "failed", "reversed", "cancelled"]
LINE_STATUSES: tuple[str, ...] = get_args(LineStatus)
# What a provider's report may say of a line.
ReportedStatus = Literal["paid", "failed", "reversed"]
# Lines that hold a household's payment for a programme and period.
HOLDING_LINE_STATUSES = ("pending", "paid")

# The currencies every amount is also reported in.
DJF, USD = "DJF", "USD"
DEFAULT_SECTOR = "16010"  # DAC 5: Social Protection
RECIPIENT_COUNTRY = "DJ"
