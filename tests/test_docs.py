"""Documentation that stays true: every public name shows an example that runs.

The examples themselves run in the README's test command
(``python -m pytest --doctest-modules omega_pl``); this test makes sure none
is missing or switched off with ``+SKIP``.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest

#: The public surfaces: what users import.
SURFACES = ("omega_pl", "omega_pl.engine", "omega_pl.datasets")


def _public(module: ModuleType) -> list[tuple[str, object]]:
    names = getattr(module, "__all__", [])
    return [
        (name, obj)
        for name in names
        if inspect.isfunction(obj := getattr(module, name))
        or (inspect.isclass(obj) and not issubclass(obj, BaseException))
    ]


CASES = [
    (surface, name, obj)
    for surface in SURFACES
    for name, obj in _public(importlib.import_module(surface))
]


@pytest.mark.parametrize(("surface", "name", "obj"), CASES, ids=[f"{s}.{n}" for s, n, _ in CASES])
def test_public_name_has_a_runnable_example(surface: str, name: str, obj: object) -> None:
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"{surface}.{name} has no example in its docstring"
    assert "+SKIP" not in doc, f"{surface}.{name} skips its example"


def test_every_surface_lists_its_names() -> None:
    for surface in SURFACES:
        module = importlib.import_module(surface)
        assert module.__all__, surface
        assert all(hasattr(module, n) for n in module.__all__), surface
