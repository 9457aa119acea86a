"""What the code reads at run time from beside itself ships in the wheel: an installed
package has only the Python files and the package data pyproject.toml declares."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_of_the_packages_is_declared_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared: set[str] = set()
    for package, patterns in config["tool"]["setuptools"]["package-data"].items():
        folder = ROOT / package.replace(".", "/")
        for pattern in patterns:
            declared |= {p.relative_to(ROOT).as_posix() for p in folder.glob(pattern)}
    tracked = subprocess.run(
        ["git", "ls-files", "services", "shared", "inds"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    data = {name for name in tracked if not name.endswith((".py", ".typed"))}
    assert data, "the packages hold data files (areas, the console, the standard pack)"
    assert data - declared == set(), "not in [tool.setuptools.package-data]"
