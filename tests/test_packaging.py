"""Packaging invariants that a wheel build would otherwise reveal too late."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_cli_module_is_linked_into_the_shipped_package() -> None:
    """maturin ships omega_cli/ (file links), not cli/: both must list the same modules."""
    source = sorted(p.name for p in (ROOT / "cli" / "omega_cli").glob("*.py"))
    shipped = ROOT / "omega_cli"
    links = sorted(p.name for p in shipped.glob("*.py"))
    missing = sorted(set(source) - set(links))
    assert not missing, (
        f"add links for {missing}: cd omega_cli && ln -s ../cli/omega_cli/NAME.py NAME.py"
    )
    assert links == source, f"omega_cli/ has files without a source in cli/omega_cli: {links}"
    for name in links:
        link = shipped / name
        assert link.is_symlink(), f"omega_cli/{name} must be a link, edit cli/omega_cli/{name}"
        assert os.readlink(link) == f"../cli/omega_cli/{name}"


def test_cli_importable_as_omega_cli() -> None:
    import omega_cli.main

    assert callable(omega_cli.main.main)
