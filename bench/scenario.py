"""What a benchmark scenario is to the runner (bench/__main__.py): a module of bench/ with

    def run(ctx: Context) -> list[Row]: ...

measuring on the stack and registry the runner started and seeded (`ctx`), each figure
beside its anchor measured in the same run, and optionally

    STACK_ENV = {...}          settings the shared stack must start with
    USES_REGISTRY = False      it does not need the seeded registry

A scenario that empties the registry goes last in bench/runner.py's SCENARIOS.

`ctx.smoke` asks for the tiny version (CI: a few seconds, so that no scenario rots): fewer
requests, shorter loads, the same code paths. Printed lines along the way are welcome; the
rows are what the table and bench/results.json show.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.registry_seed import Seeded
from bench.stack import auth_headers, gateway_url
from inds.stack import Stack

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Target:
    """A bound on a figure (`on="value"`, in the figure's unit) or on its ratio to its
    anchor (`on="ratio"`)."""

    op: str
    bound: float
    on: str = "value"

    def met(self, value: float, ratio: float | None) -> bool | None:
        measured = value if self.on == "value" else ratio
        if measured is None or measured != measured:  # no anchor, or NaN
            return None
        return _COMPARE[self.op](measured, self.bound)

    def text(self, unit: str) -> str:
        if self.on == "ratio":
            return f"ratio {self.op} {self.bound:g}"
        return f"{self.op} {self.bound:g} {unit}".rstrip()


@dataclass
class Row:
    """One figure: its value, and its anchor's in the same unit (ratio = value / anchor)."""

    figure: str
    value: float
    unit: str = ""
    anchor: float | None = None
    anchor_label: str = ""
    target: Target | None = None
    note: str = ""
    scenario: str = ""  # set by the runner

    @property
    def ratio(self) -> float | None:
        if self.anchor is None or self.anchor == 0:
            return None
        return self.value / self.anchor

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value, self.ratio)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = None if self.target is None else self.target.text(self.unit)
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


@dataclass
class Context:
    """What every scenario gets: the running stack, the registry seeded in it, how long a
    load lasts, and whether this is the smoke run."""

    stack: Stack
    households: int
    seeded: Seeded | None
    seconds: float
    smoke: bool = False
    seed: int = 1

    @property
    def gateway(self) -> str:
        return gateway_url(self.stack)

    def service(self, name: str) -> str:
        return self.stack.processes[name].url

    @property
    def server_url(self) -> str:
        assert self.stack.server_url is not None
        return self.stack.server_url

    def headers(self) -> dict[str, str]:
        """A fresh admin token's headers (tokens expire: ask again for each phase)."""
        return auth_headers(self.stack)

    def registry(self) -> Seeded:
        assert self.seeded is not None, "this scenario needs the seeded registry"
        return self.seeded

    def size(self, full: int, smoke: int) -> int:
        """`full` normally, `smoke` in the smoke run."""
        return smoke if self.smoke else full
