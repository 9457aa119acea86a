"""The DCI envelope: reading a search message (signature, header, message with
`search_request[]`) and writing the `on-search` answer, with the standard's status and
reason codes. Transport problems (no header, a field missing, the wrong sender) are the
standard's HttpErrorResponse (`{"errors": [{"code", "message"}]}`); a header the registry
refuses is an `on-search` whose header is `rjct` with a MsgHeaderStatusReasonCode; each
search request is answered on its own, `succ` or `rjct` with a SearchStatusReasonCode."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.beneficiaries.dci import codes


class DciError(Exception):
    """A transport-level refusal: HTTP `status` with the standard's error `code`."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        # Refusing an asynchronous request: answered as the standard's Response with
        # `ack_status: ERR` (see `refusal`), not as an HttpErrorResponse.
        self.as_ack = False

    def body(self) -> dict[str, Any]:
        return {"errors": [{"code": self.code, "message": self.message}]}


class Rejected(Exception):
    """A refusal answered in the `on-search` envelope, `rjct` with the standard's reason
    `code`: of the whole message (a MsgHeaderStatusReasonCode, in the header) or of one
    search request (a SearchStatusReasonCode, in its response)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Header:
    message_id: str
    message_ts: str
    action: str
    sender_id: str
    total_count: Any
    version: str | None = None
    receiver_id: str | None = None
    sender_uri: str | None = None
    is_msg_encrypted: bool = False


@dataclass
class SearchMessage:
    signature: str | None
    header: Header
    # As sent: check_header makes sure of their types.
    transaction_id: Any
    requests: Any
    raw_header: dict[str, Any] = field(repr=False, default_factory=dict)
    raw_message: dict[str, Any] = field(repr=False, default_factory=dict)


_REQUIRED_HEADER = ("message_id", "message_ts", "action", "sender_id", "total_count")


def now_ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def read_envelope(body: Any, requests: str = "search_request") -> SearchMessage:
    """The envelope's parts, or the DciError its shape deserves (nothing is searched).
    `requests`: the message's list of requests (`search_request`, `txnstatus_request`)."""
    if not isinstance(body, dict):
        raise DciError(
            400, codes.ERR_BAD_REQUEST, "The body is a JSON object with header and message."
        )
    header = body.get("header")
    if not isinstance(header, dict):
        raise DciError(400, codes.ERR_BAD_REQUEST, "header is required (an object).")
    missing = [name for name in _REQUIRED_HEADER if header.get(name) in (None, "")]
    if missing:
        raise DciError(
            400,
            codes.ERR_BAD_REQUEST,
            "header is missing " + ", ".join(f"header.{m}" for m in missing) + ".",
        )
    for name in ("message_id", "message_ts", "action", "sender_id"):
        if not isinstance(header[name], str) or len(header[name]) > 128:
            raise DciError(
                400, codes.ERR_BAD_REQUEST, f"header.{name} is a string of at most 128 characters."
            )
    message = body.get("message")
    if not isinstance(message, dict):
        raise DciError(400, codes.ERR_BAD_REQUEST, "message is required (an object).")
    signature = body.get("signature")
    if signature is not None and not isinstance(signature, str):
        raise DciError(400, codes.ERR_BAD_REQUEST, "signature is a string.")
    return SearchMessage(
        signature=signature or None,
        header=Header(
            message_id=header["message_id"],
            message_ts=header["message_ts"],
            action=header["action"],
            sender_id=header["sender_id"],
            total_count=header["total_count"],
            version=header.get("version"),
            receiver_id=header.get("receiver_id") or None,
            sender_uri=header.get("sender_uri") or None,
            is_msg_encrypted=header.get("is_msg_encrypted") is True,
        ),
        transaction_id=message.get("transaction_id"),
        requests=message.get(requests),
        raw_header=header,
        raw_message=message,
    )


def check_header(
    message: SearchMessage,
    *,
    registry_id: str,
    max_batch: int,
    action: str = "search",
    requests: str = "search_request",
) -> None:
    """The header and message-level checks with a MsgHeaderStatusReasonCode: `action` is
    the endpoint's, `requests` the name of the message's list of requests."""
    header = message.header
    if header.is_msg_encrypted:
        raise DciError(
            400,
            codes.ERR_ENCRYPTION,
            "Encrypted messages are not accepted; send is_msg_encrypted false over TLS.",
        )
    if header.receiver_id is not None and header.receiver_id != registry_id:
        raise DciError(
            400, codes.ERR_RECEIVER_ID, f"receiver_id is {registry_id!r} for this registry."
        )
    if header.version not in (None, codes.VERSION):
        raise Rejected(codes.HEADER_VERSION_INVALID, f"header.version is {codes.VERSION}.")
    if header.action != action:
        raise Rejected(codes.ACTION_INVALID, f"header.action is {action!r} on this endpoint.")
    if parse_timestamp(header.message_ts) is None:
        raise Rejected(
            codes.MESSAGE_TS_INVALID, "header.message_ts is an ISO 8601 date-time with a time zone."
        )
    if (
        not isinstance(message.transaction_id, str)
        or not message.transaction_id.strip()
        or len(message.transaction_id) > 99
    ):
        raise DciError(
            400,
            codes.ERR_BAD_REQUEST,
            "message.transaction_id is required (at most 99 characters).",
        )
    if not isinstance(message.requests, list) or not message.requests:
        raise DciError(400, codes.ERR_BAD_REQUEST, f"message.{requests} is a non-empty list.")
    total = header.total_count
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    if not isinstance(total, int) or isinstance(total, bool) or total != len(message.requests):
        raise Rejected(
            codes.TOTAL_COUNT_INVALID,
            "header.total_count is the number of search requests in the message.",
        )
    if total > max_batch:
        raise Rejected(
            codes.TOTAL_COUNT_LIMIT_EXCEEDED,
            f"A message carries at most {max_batch} search requests.",
        )


def answer_header(
    message: SearchMessage,
    registry_id: str,
    *,
    status: str,
    count: int,
    completed: int,
    reason: Rejected | None = None,
    action: str = "on-search",
) -> dict[str, Any]:
    header: dict[str, Any] = {
        "version": codes.VERSION,
        "message_id": str(uuid.uuid4()),
        "message_ts": now_ts(),
        "action": action,
        "status": status,
        "total_count": count,
        "completed_count": completed,
        "sender_id": registry_id,
        "receiver_id": message.header.sender_id,
        "is_msg_encrypted": False,
    }
    if reason is not None:
        header["status_reason_code"] = reason.code
        header["status_reason_message"] = reason.message
    return header


def envelope(
    header: dict[str, Any], transaction_id: Any, responses: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "header": header,
        "message": {
            "transaction_id": transaction_id if isinstance(transaction_id, str) else "",
            "correlation_id": str(uuid.uuid4()),
            "search_response": responses,
        },
    }


def rejected(reference_id: Any, error: Rejected, locale: Any = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "reference_id": reference_id if isinstance(reference_id, str) else "",
        "timestamp": now_ts(),
        "status": codes.REJECTED,
        "status_reason_code": error.code,
        "status_reason_message": error.message[:999],
    }
    if isinstance(locale, str):
        answer["locale"] = locale
    return answer


def acknowledgement(correlation_id: str) -> dict[str, Any]:
    """The standard's ACK of an asynchronous request (common/response/Response.yaml): its
    answer follows at the caller's callback URI, under this correlation id."""
    return {
        "message": {
            "ack_status": codes.ACK,
            "timestamp": now_ts(),
            "correlation_id": correlation_id,
        }
    }


def refusal(error: DciError) -> dict[str, Any]:
    """An asynchronous request refused before it was accepted: the Response with
    `ack_status: ERR` and the error (401 and 403 keep the HttpErrorResponse)."""
    return {
        "message": {
            "ack_status": codes.ACK_ERROR,
            "timestamp": now_ts(),
            "error": {"code": error.code, "message": error.message[:999]},
            "correlation_id": str(uuid.uuid4()),
        }
    }
