from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.callbacks import CallbackReceiver


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[CallbackReceiver]:
    """A partner's callback receiver: a real HTTP server process on loopback."""
    process = CallbackReceiver(tmp_path)
    try:
        yield process
    finally:
        process.stop()
