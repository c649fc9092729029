"""The README's Python quickstart runs as written (the README must stay true)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_blocks_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OMEGA_PL_CACHE", str(tmp_path / "cache"))
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no Python quickstart"
    namespace: dict[str, object] = {}
    for block in blocks:  # every Python block, in order, sharing one namespace
        exec(compile(block, str(README), "exec"), namespace)
    df = namespace["df"]
    assert isinstance(df, pl.DataFrame)
    assert {"bid_ema20", "spread_pips"} <= set(df.columns)
    assert df.height > 0
    hourly = namespace["hourly"]
    assert isinstance(hourly, pl.DataFrame) and hourly.height < df.height
    out = namespace["out"]
    assert isinstance(out, pl.DataFrame)
    assert {"bid_close_ema_20", "bid_close_atr_14", "bb_upper"} <= set(out.columns)


def test_readme_states_both_setup_commands() -> None:
    text = README.read_text()
    assert "pip install . ./cli && omega load" in text
    command = (
        'pip install -e ".[dev]" -e ./cli && python -m pytest'
        " && python -m pytest --doctest-modules omega_pl"
    )
    assert command in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert 'pip install --disable-pip-version-check -q -e ".[dev]" -e ./cli' in ci
    assert "python3 -m pytest\n" in ci
    assert "python3 -m pytest --doctest-modules omega_pl\n" in ci


def test_api_reference_names_every_public_name() -> None:
    import omega_pl
    import omega_pl.engine

    text = README.read_text()
    section = text[text.index("## API reference") : text.index("## CLI reference")]
    indicators = set(omega_pl.INDICATORS)
    missing = [
        name
        for module in (omega_pl, omega_pl.engine)
        for name in module.__all__
        if not name.startswith("_") and name not in indicators and f"`{name}`" not in section
    ]
    assert not missing, f"add to the README's API reference: {missing}"


def test_cli_reference_names_every_command() -> None:
    from omega_cli.main import app

    text = README.read_text()
    section = text[text.index("## CLI reference") : text.index("## Memory")]
    commands = [c.name for c in app.registered_commands]
    assert commands and all(f"`omega {c}" in section for c in commands), commands
