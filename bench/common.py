"""What the benchmark scripts share besides the stack: percentiles, timing, printed figures,
scratch folders. Standard library only (the Python load generator's child process imports it).
"""

from __future__ import annotations

import math
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def percentiles(values: Sequence[float], *points: int) -> list[float]:
    """The percentiles `points` (whole numbers, 1 to 99) of `values`, computed the one way
    every benchmark computes them:

        statistics.quantiles(values, n=100, method="inclusive")

    that is linear interpolation between the two closest ranks, the smallest value being the
    0th percentile and the largest the 100th (numpy.percentile's default, Excel's
    PERCENTILE.INC). A percentile never lies beyond the largest value measured: with 20
    samples, p95 lies between the two slowest. One value: that value at every point; none:
    NaN.

    wrk, when bench/load.py uses it, reports its own percentiles instead: the nearest rank
    in its histogram of 1 µs buckets, which differs from this by less than the gap between
    two neighbouring samples."""
    if not values:
        return [math.nan for _ in points]
    if len(values) == 1:
        return [float(values[0]) for _ in points]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return [cuts[point - 1] for point in points]


def percentile(values: Sequence[float], point: int) -> float:
    """One percentile of `values`, as `percentiles` computes them."""
    return percentiles(values, point)[0]


def latency_figures(values_ms: Sequence[float], *points: int, digits: int = 1) -> str:
    """'p50 12.3 ms, p95 45.6 ms' for latencies in milliseconds (default: p50 and p95)."""
    points = points or (50, 95)
    return ", ".join(
        f"p{point} {value:.{digits}f} ms"
        for point, value in zip(points, percentiles(values_ms, *points), strict=True)
    )


class Stopwatch:
    """Wall time (time.perf_counter) from its creation: read while it runs, or frozen when
    the `with` block it opens ends.

        with Stopwatch() as watch:
            client.get(...)
        timings.append(watch.ms)
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.stopped: float | None = None

    def __enter__(self) -> Stopwatch:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> float:
        self.stopped = time.perf_counter()
        return self.seconds

    @property
    def seconds(self) -> float:
        end = self.stopped if self.stopped is not None else time.perf_counter()
        return end - self.started

    @property
    def ms(self) -> float:
        return self.seconds * 1000


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit(143), so that a benchmark stopped with SIGTERM still runs
    its `finally` blocks and context managers' exits: what it started is stopped, what it
    wrote is removed. (Ctrl-C already raises KeyboardInterrupt.) Main thread only."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed with everything in it when the block ends: normally, on
    an exception, on Ctrl-C or on SIGTERM."""
    stop_on_sigterm()
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as folder:
        yield Path(folder)
