"""The DCI standard's codes (spdci/standards, src/registry/social_api_v1.0.0.yaml and the
schemas it references), and how the registry's identifiers map onto its id types."""

from __future__ import annotations

VERSION = "1.0.0"

# common/schema/RequestStatus.yaml
RECEIVED, PENDING, SUCCEEDED, REJECTED = "rcvd", "pdng", "succ", "rjct"

# registry/schema/SearchStatusReasonCode.yaml
REFERENCE_ID_INVALID = "rjct.reference_id.invalid"
REFERENCE_ID_DUPLICATE = "rjct.reference_id.duplicate"
TIMESTAMP_INVALID = "rjct.timestamp.invalid"
SEARCH_CRITERIA_INVALID = "rjct.search_criteria.invalid"
FILTER_INVALID = "rjct.filter.invalid"
SORT_INVALID = "rjct.sort.invalid"
PAGINATION_INVALID = "rjct.pagination.invalid"
TOO_MANY_RECORDS = "rjct.search.too_many_records_found"

# common/schema/MsgHeaderStatusReasonCode.yaml
HEADER_VERSION_INVALID = "rjct.version.invalid"
MESSAGE_ID_DUPLICATE = "rjct.message_id.duplicate"
MESSAGE_TS_INVALID = "rjct.message_ts.invalid"
ACTION_INVALID = "rjct.action.invalid"
ACTION_NOT_SUPPORTED = "rjct.action.not_supported"
TOTAL_COUNT_INVALID = "rjct.total_count.invalid"
TOTAL_COUNT_LIMIT_EXCEEDED = "rjct.total_count.limit_exceeded"

# common/schema/Error.yaml (transport errors, in the HttpErrorResponse shape)
ERR_BAD_REQUEST = "err.request.bad"
ERR_UNAUTHORIZED = "err.request.unauthorized"
ERR_FORBIDDEN = "err.request.forbidden"
ERR_NOT_FOUND = "err.request.not_found"
ERR_TOO_MANY = "err.request.too_many_requests"
ERR_VERSION = "err.version.not_supported"
ERR_SENDER_ID = "err.sender_id.invalid"
ERR_SENDER_URI = "err.sender_uri.invalid"
ERR_RECEIVER_ID = "err.receiver_id.invalid"
ERR_SIGNATURE_MISSING = "err.signature.missing"
ERR_SIGNATURE_INVALID = "err.signature.invalid"
ERR_ENCRYPTION = "err.encryption.invalid"
ERR_UNAVAILABLE = "err.service.unavailable"

ERROR_CODE_BY_STATUS = {
    400: ERR_BAD_REQUEST,
    401: ERR_UNAUTHORIZED,
    403: ERR_FORBIDDEN,
    404: ERR_NOT_FOUND,
    413: ERR_BAD_REQUEST,
    422: ERR_BAD_REQUEST,
    429: ERR_TOO_MANY,
    503: ERR_UNAVAILABLE,
}

# common/schema/Ack.yaml (the answer to an asynchronous request: common/response/Response.yaml)
ACK, NACK, ACK_ERROR = "ACK", "NACK", "ERR"

# registry/social/TxnStatusRequest.yaml (the core API's registry/schema/TxnStatusRequest.yaml
# spells `subscribe` right and adds `unsubscribe` and `subscription_code_list`)
TXN_TYPES = {"search": "search", "subscribe": "subscribe", "subscibe": "subscribe"}
TXN_ATTRIBUTE_TYPES = ("transaction_id", "reference_id_list", "correlation_id")

# Registry events a partner may subscribe to: a household registered and a member joining
# one (registry/social/RegistryEventType.yaml), an enrollment made or changing status
# (registry/ibr/RegistryEventType.yaml, spelled as the standard spells them).
EVENT_REGISTER = "REGISTER"
EVENT_NEW_MEMBER = "NewHouseHoldMember"
EVENT_ENROLLMENT = "enrollement"
EVENT_ENROLLMENT_STATUS = "enrollement_status_change"
EVENT_TYPES = (EVENT_REGISTER, EVENT_NEW_MEMBER, EVENT_ENROLLMENT, EVENT_ENROLLMENT_STATUS)
# registry/schema/RegistryType.yaml ("defined as per implementation context")
REGISTRY_TYPE = "ns:org:RegistryType:Social"
# registry/schema/SubscribeStatusReasonCode.yaml, UnSubscribeStatusReasonCode.yaml
NOTIFY_TYPES_INVALID = "rjct.notify_types.invalid"
NOTIFY_DETAILS_INVALID = "rjct.notify_details.invalid"
ALREADY_SUBSCRIBED = "rjct.event.already_subscribed"
SUBSCRIPTION_CODE_INVALID = "rjct.subscription_code.invalid"
ALREADY_UNSUBSCRIBED = "rjct.event.already_unsubscribed"
# registry/schema/SubscriptionStatus.yaml
SUBSCRIBED, UNSUBSCRIBED = "subscribe", "unsubscribe"

# registry/social/QueryType.yaml
QUERY_TYPES = ("idtype-value", "expression", "predicate")
# common/schema/ResponseEntity.yaml
RESPONSE_ENTITIES = ("Group", "Member")
# common/schema/ExpOperator.yaml and ExpCondition.yaml
OPERATORS = ("gt", "lt", "eq", "ge", "le", "in")
CONDITIONS = ("and", "or", "not")
SORT_ORDERS = ("asc", "desc")

# Id types: UIN, BRN and MOBILE are the standard's own (common/schema/IdentifierType.yaml,
# extensions/dci/IdentifierType.yaml); the standard leaves the others to the implementation
# ("identifier type values defined as per implementation context").
REGISTRY_NUMBER = "REGISTRY_NUMBER"
PSEUDONYM = "PSEUDONYM"
ID_TYPES: dict[str, str] = {
    "UIN": "national_id",
    "BRN": "birth_certificate",
    "MOBILE": "phone",
    "UNHCR_ID": "unhcr_individual",
    "UNHCR_CASE": "unhcr_case",
    "WFP_SCOPE": "wfp_scope",
    REGISTRY_NUMBER: "registry_number",
}
ID_TYPE_OF_FIELD = {field: code for code, field in ID_TYPES.items()}

# extensions/dci/Sex.yaml
SEX = {"F": "female", "M": "male"}
SEX_CODES = {value: code for code, value in SEX.items()}
