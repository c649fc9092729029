"""Packaging invariants that a wheel build would otherwise reveal too late.

The repository holds two distributions: omega-pl (the root pyproject.toml,
package ``omega_pl`` with the Rust plugin) and omega-cli (cli/pyproject.toml,
package ``omega_cli`` and the ``omega`` script), as Polars ships polars-cli.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _project(path: Path) -> dict[str, Any]:
    """The ``[project]`` table of a pyproject.toml."""
    project: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    return project


def test_no_symlinks_are_tracked() -> None:
    """Every source file is one real copy: git records no links (mode 120000)."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    entries = proc.stdout.splitlines()
    assert any(line.endswith("\tcli/omega_cli/main.py") for line in entries), "unexpected listing"
    links = [line.split("\t", 1)[1] for line in entries if line.startswith("120000 ")]
    assert links == [], f"tracked symlinks: {links}"


def test_import_omega_pl_needs_no_cli_dependencies() -> None:
    """``import omega_pl`` alone imports neither typer nor rich (they come with omega-cli)."""
    code = (
        "import sys, omega_pl\n"
        "print(','.join(sorted(m for m in ('typer', 'rich', 'click', 'omega_cli') "
        "if m in sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "", f"import omega_pl loaded: {proc.stdout.strip()}"


def test_cli_importable_as_omega_cli() -> None:
    import omega_cli.main

    assert callable(omega_cli.main.main)


def test_cli_distribution_matches_the_library() -> None:
    """omega-cli has omega-pl's version, needs exactly that omega-pl, and provides ``omega``."""
    lib = _project(ROOT / "pyproject.toml")
    cli = _project(ROOT / "cli" / "pyproject.toml")
    assert lib["name"] == "omega-pl" and cli["name"] == "omega-cli"
    assert cli["version"] == lib["version"]
    assert f"omega-pl=={lib['version']}" in cli["dependencies"]
    assert cli["scripts"] == {"omega": "omega_cli.main:main"}
    assert "scripts" not in lib
    lib_deps = " ".join(lib["dependencies"])
    assert "typer" not in lib_deps and "rich" not in lib_deps
    assert (ROOT / "cli" / "omega_cli" / "main.py").is_file()
