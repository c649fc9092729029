"""omega_pl inside other people's processes: threads, concurrent writers, kills, imports.

* The same calls from 8 Python threads at once, on shared frames, give the
  same bits as one after the other.
* Two ``omega`` processes writing the same ``-o`` target leave one complete
  file; one killed (SIGKILL) while it writes leaves the previous file (or
  none) and its temporary file is removed by the next successful run.
* ``import omega_pl`` starts no thread and maps no large buffer beyond what
  ``import polars`` does (so a forked child inherits nothing of ours), and
  the multiprocessing example runs with the ``spawn`` start method.
"""

from __future__ import annotations

import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import omega_pl
from omega_pl import ParameterError
from omega_pl.indicators.catalog import by_name
from omega_pl.indicators.declare import REQUIRED, Param

REPO = Path(__file__).resolve().parents[1]
OMEGA = [sys.executable, "-m", "omega_cli.main"]


def as_bits(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with Struct columns unnested and floats as their bit patterns,
    so that ``equals`` compares bits (NaN payloads, signed zeros and all)."""
    structs = [c for c, t in frame.schema.items() if isinstance(t, pl.Struct)]
    for c in structs:
        frame = frame.unnest(c, separator="_")
    return frame.with_columns(pl.col(pl.Float64).reinterpret(signed=True))


# ---------------------------------------------------------------------------
# threads


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, Path]:
    root = tmp_path_factory.mktemp("threads")
    omega_pl.datasets.write_sample_data(
        root, symbols=["EURUSD"], timeframes=["M5"], start="2025-03-03", end="2025-04-25"
    )
    bid = root / "EURUSD" / "EURUSD_M5_BID.parquet"
    csv = root / "EURUSD_M5_BID.csv"
    pl.read_parquet(bid).select(
        pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S+00:00").alias("UTC time"),
        *(pl.col(c).alias(c.capitalize()) for c in omega_pl.OHLCV),
    ).write_csv(csv)
    frame = omega_pl.scan_symbol(root, "EURUSD", "M5").collect()
    return frame, root


SPECS = ["ema:20", "rsi:14", "atr:14", "macd:12,26,9", "bollinger:20", "dmi:14", "zscore:50"]


def thread_tasks(frame: pl.DataFrame, root: Path) -> dict[str, Callable[[], pl.DataFrame]]:
    close = pl.col("bid_close")
    csv = root / "EURUSD_M5_BID.csv"
    return {
        "expressions": lambda: frame.select(
            close.omega.ema(20).alias("ema"),
            close.omega.rsi(14).alias("rsi"),
            omega_pl.atr("bid_high", "bid_low", "bid_close", 14).alias("atr"),
            close.omega.kalman_zscore(30).alias("kz"),
            close.omega.garch_volatility().alias("garch"),
        ),
        "with_indicators": lambda: omega_pl.with_indicators(frame, SPECS, source="bid_close"),
        "lazy_with_indicators": lambda: omega_pl.with_indicators(
            frame.lazy(), SPECS, source="ask_close"
        ).collect(),
        "scan_symbol": lambda: omega_pl.scan_symbol(root, "EURUSD", "M5").collect(),
        "scan_candles_csv": lambda: omega_pl.scan_candles(csv, start="2025-03-10").collect(),
        "scan_candles_parquet": lambda: omega_pl.scan_candles(
            root / "EURUSD" / "EURUSD_M5_ASK.parquet", end="2025-04-01"
        ).collect(),
    }


def test_eight_threads_give_the_serial_bits(shared: tuple[pl.DataFrame, Path]) -> None:
    frame, root = shared
    tasks = thread_tasks(frame, root)
    serial = {name: as_bits(run()) for name, run in tasks.items()}
    assert all(df.height > 0 for df in serial.values())
    jobs = [name for name in tasks for _ in range(4)]
    random.Random(13).shuffle(jobs)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: (name, as_bits(tasks[name]())), jobs))
    for name, got in results:
        assert got.equals(serial[name]), name


# ---------------------------------------------------------------------------
# no panic crosses the FFI

CATALOG = by_name()
VALUES = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.1, 1e-300, 1e300]),
)
INTS = st.one_of(st.integers(-2, 70), st.sampled_from([2**31, 2**62]))
FLOATS = st.one_of(
    st.floats(-5, 5), st.sampled_from([0.0, 1e-300, 1e300, math.inf, -math.inf, math.nan])
)


def value_of(param: Param) -> st.SearchStrategy[object]:
    """Any value a user could pass for ``param``, valid or not."""
    ann = param.annotation
    if ann.startswith("Literal"):
        return st.sampled_from([*re.findall(r'"([^"]*)"', ann), "bogus"])
    if ann == "str":
        return st.sampled_from(["atr_points", "returns", "garch", "bogus", ""])
    if ann == "Convention":
        return st.sampled_from(["reference", "talib"])
    base = {"int": INTS, "float": FLOATS, "bool": st.booleans()}[ann.split(" |")[0]]
    return st.one_of(st.none(), base) if ann.endswith("| None") else base


@st.composite
def indicator_calls(draw: st.DrawFn) -> tuple[str, dict[str, object], pl.DataFrame]:
    name = draw(st.sampled_from(sorted(CATALOG)))
    params = {}
    for param in (*CATALOG[name].params, *CATALOG[name].options):
        if param.default is REQUIRED or draw(st.booleans()):
            params[param.name] = draw(value_of(param))
    n = draw(st.integers(0, 60))
    columns = {c: draw(st.lists(VALUES, min_size=n, max_size=n)) for c in ("h", "l", "c")}
    bars = draw(st.lists(st.one_of(st.none(), st.integers(-3, 30)), min_size=n, max_size=n))
    frame = pl.DataFrame(
        {**columns, "bar": bars}, schema={**dict.fromkeys("hlc", pl.Float64), "bar": pl.Int64}
    )
    return name, params, frame


@settings(
    max_examples=int(os.environ.get("OMEGA_FUZZ_EXAMPLES", "300")),
    deadline=None,
    derandomize="OMEGA_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(call=indicator_calls())
def test_no_indicator_input_panics_in_the_plugin(
    call: tuple[str, dict[str, object], pl.DataFrame],
) -> None:
    """Every indicator with any parameters, on any short column (nulls, NaN,
    infinities, huge values): a result, a ``ParameterError`` or an ``omega:``
    error from the plugin; never a panic (Polars reports one as "the plugin
    panicked", or raises ``PanicException``)."""
    name, params, frame = call
    inputs = {"close": ["c"], "ohlc": ["h", "l", "c"], "stepwise": ["c"]}[
        CATALOG[name].inputs.value
    ]
    if CATALOG[name].inputs.value == "stepwise":
        params["bar"] = "bar"
    try:
        expr = getattr(omega_pl, name)(*inputs, **params)
    except (ParameterError, TypeError):
        return
    message = ""
    try:
        out = frame.select(expr)
    except pl.exceptions.PolarsError as exc:
        message = str(exc)
    if message:
        assert "panicked" not in message and "omega: " in message, message
    else:
        assert out.height == frame.height


# ---------------------------------------------------------------------------
# processes writing the same target


@pytest.fixture(scope="module")
def m1_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root whose indicator output takes a while to write (about 10 MB)."""
    root = tmp_path_factory.mktemp("m1")
    omega_pl.datasets.write_sample_data(
        root, symbols=["EURUSD", "GBPUSD"], timeframes=["M1"], start="2025-03-03", end="2025-05-02"
    )
    return root


def temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def omega(*args: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*OMEGA, *map(str, args)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def indicators_args(root: Path, out: Path, start: str) -> list[object]:
    return [
        "indicators",
        root,
        "-s",
        "EURUSD",
        "-t",
        "M1",
        "--start",
        start,
        "--show",
        0,
        "-o",
        out,
    ]


def expected_indicators(root: Path, start: str) -> pl.DataFrame:
    from omega_cli.indicators import DEFAULT_SPECS

    lf = omega_pl.scan_symbol(root, "EURUSD", "M1", start=start)
    return omega_pl.with_indicators(lf, list(DEFAULT_SPECS)).collect()


def test_two_processes_writing_one_target_leave_one_complete_file(
    m1_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.parquet"
    starts = ("2025-03-03", "2025-03-17")
    for _ in range(2):
        procs = [omega(*indicators_args(m1_root, out, start)) for start in starts]
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err.decode()
        written = pl.read_parquet(out)
        assert any(written.equals(expected_indicators(m1_root, s)) for s in starts)
        assert temporaries(tmp_path) == []


def kill_while_writing(args: list[object], out: Path) -> bool:
    """Runs ``omega ARGS`` and SIGKILLs it as soon as its temporary file shows
    up next to ``out``; whether it was killed mid-write (the file was there)."""
    proc = omega(*args)
    prefix = f".{out.name}."
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if any(n.startswith(prefix) and n.endswith(".tmp") for n in os.listdir(out.parent)):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
                return any(
                    n.startswith(prefix) and n.endswith(".tmp") for n in os.listdir(out.parent)
                )
            time.sleep(0.0005)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
    return False


@pytest.mark.parametrize("command", ["indicators", "slice"])
def test_killed_mid_write_leaves_the_previous_file(
    command: str, m1_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.parquet"

    def args(start: str) -> list[object]:
        if command == "indicators":
            return indicators_args(m1_root, out, start)
        return ["slice", m1_root, "-s", "EURUSD,GBPUSD", "-t", "M1", "--start", start,
                "--show", 0, "-o", out]  # fmt: skip

    # No previous file: after the kill there is none (or, if the run got to
    # rename before the signal, the complete new one).
    mid_write = kill_while_writing(args("2025-03-03"), out)
    if out.exists():
        assert not mid_write
        out.unlink()
    # A previous complete file: the kill leaves exactly it.
    done = subprocess.run([*OMEGA, *map(str, args("2025-04-01"))], cwd=REPO, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    previous = out.read_bytes()
    hits = int(mid_write)
    for _ in range(3):
        hits += kill_while_writing(args("2025-03-03"), out)
        assert out.read_bytes() == previous
        pl.read_parquet(out)  # complete: it reads
    assert hits > 0, "never caught the writer mid-write"
    assert temporaries(tmp_path), "the killed writers' temporary files should be left"
    # The next successful run removes the dead writers' temporary files.
    done = subprocess.run([*OMEGA, *map(str, args("2025-04-15"))], cwd=REPO, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert temporaries(tmp_path) == []
    assert out.read_bytes() != previous


def test_a_running_writers_temporary_file_is_left_alone(tmp_path: Path) -> None:
    from omega_cli.output import _HOST, stale_temporaries, write_parquet_atomic

    host = _HOST

    out = tmp_path / "x.parquet"
    alive = tmp_path / f".x.parquet.{host}.{os.getppid()}.abc.tmp"
    pid_of_exited = [sys.executable, "-c", "import os; print(os.getpid())"]
    dead_pid = subprocess.run(pid_of_exited, capture_output=True, text=True, check=True).stdout
    dead_pid = dead_pid.strip()
    dead = tmp_path / f".x.parquet.{host}.{dead_pid}.def.tmp"
    other_host = tmp_path / f".x.parquet.00000000.{dead_pid}.abc.tmp"
    other_target = tmp_path / f".y.parquet.{host}.{dead_pid}.abc.tmp"
    for p in (alive, dead, other_host, other_target):
        p.write_bytes(b"partial")
    assert stale_temporaries(out) == [dead]
    write_parquet_atomic(pl.DataFrame({"a": [1]}), out)
    assert temporaries(tmp_path) == sorted(p.name for p in (alive, other_host, other_target))


# ---------------------------------------------------------------------------
# import and fork

STATUS = """
import sys
def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(fields["Threads"]), int(fields["RssAnon"].split()[0])
import polars
before = status()
import omega_pl
after = status()
print(before[0], after[0], after[1] - before[1], "numpy" in sys.modules)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_import_starts_no_thread_and_allocates_little() -> None:
    """``import omega_pl`` after ``import polars``: no new thread (NumPy, whose
    BLAS starts a thread pool, is imported on first use) and under 6 MB of
    anonymous memory (the package's Python code; was 10 MB with NumPy and
    the compiled library loaded at import)."""
    out = subprocess.run(
        [sys.executable, "-c", STATUS], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.split()
    threads_before, threads_after, rss_kb, numpy = int(out[0]), int(out[1]), int(out[2]), out[3]
    assert threads_after == threads_before
    assert rss_kb < 6 * 1024, f"import omega_pl took {rss_kb} kB"
    assert numpy == "False"


def test_multiprocessing_example_uses_spawn(tmp_path: Path) -> None:
    example = REPO / "examples" / "multiprocessing_spawn.py"
    assert 'get_context("spawn")' in example.read_text()
    root = tmp_path / "data"
    omega_pl.datasets.write_sample_data(
        root, symbols=["EURUSD", "USDJPY"], timeframes=["M5"], start="2025-03-24", end="2025-03-28"
    )
    done = subprocess.run(
        [sys.executable, str(example), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "EURUSD" in done.stdout and "USDJPY" in done.stdout
