"""Streamed answers whose body generator is closed as soon as sending stops.

Starlette leaves a streamed body to the garbage collector when the client goes away or the
send fails; a generator reading through a server-side cursor (an export, a payment file,
an IATI file) then runs its `finally` later, after the request's database session is
closed, or never. This response closes the generator itself, however sending stops, shielded
from the cancellation that stopped it, so the cursor closes (and any audit row is written)
while the session is still open.
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Send


class ClosingStreamingResponse(StreamingResponse):
    """A `StreamingResponse` that closes its body generator once sending stops."""

    async def stream_response(self, send: Send) -> None:
        body: Any = self.body_iterator
        try:
            await super().stream_response(send)
        finally:
            aclose = getattr(body, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
