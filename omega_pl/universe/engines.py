"""The two engines that run symbol tasks: in this process, or as Ray tasks.

Both take the same :class:`~omega_pl.universe.task.SymbolTask` objects and
yield one :class:`~omega_pl.universe.report.SymbolReport` per task, in the order
the tasks finish; the driver (:func:`~omega_pl.build_dataset`) moves each
finished symbol into place as its report arrives.

* :func:`run_local`: one symbol after the other in this process. Polars
  already runs each plan on every core, and only one symbol's frame is ever
  held.
* :func:`run_ray`: one Ray task per symbol, on the cluster :func:`connect_ray`
  joined (or the local instance it started). Each task opens its own files
  from ``root`` and writes its own temporary directory inside ``out``; only the
  task description goes to the worker and only the small report comes back.
  A task whose worker dies (killed, out of memory) is retried by Ray; one
  that keeps dying is reported as failed.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from omega_pl.errors import MissingExtraError, OmegaError
from omega_pl.universe import task as task_module
from omega_pl.universe.report import SymbolReport, error_text
from omega_pl.universe.task import SymbolTask, failed

__all__ = [
    "MAX_RETRIES",
    "RayConnectionError",
    "RaySession",
    "connect_ray",
    "import_ray",
    "run_local",
    "run_ray",
]

#: How often Ray retries a symbol's task after its worker process died.
MAX_RETRIES = 3
#: The environment variable that sizes Polars' thread pool in a Ray worker.
THREADS_ENV = "POLARS_MAX_THREADS"

_log = logging.getLogger("omega_pl.dataset")


def run_local(
    tasks: Sequence[SymbolTask], started: Callable[[str], None]
) -> Iterator[SymbolReport]:
    """Run the tasks one after the other in this process, yielding each report when done."""
    for task in tasks:
        started(task.symbol)
        yield task_module.run_task(task)


def import_ray() -> Any:
    """The ``ray`` module; :class:`~omega_pl.errors.MissingExtraError` when it is not installed."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise MissingExtraError("engine='ray'", "ray", "ray") from None


class RayConnectionError(OmegaError, ConnectionError):
    """``engine="ray"`` could not join the cluster at ``ray_address``."""


@dataclass
class RaySession:
    """A connection to Ray for one build; ``close()`` shuts Ray down if it was started here."""

    ray: Any
    own: bool

    def close(self) -> None:
        """Shut down the Ray instance this build started or joined (not one it found)."""
        if self.own:
            self.ray.shutdown()


def connect_ray(address: str | None, workers: int | None) -> RaySession:
    """Join the cluster at ``address``, or start a local Ray instance of ``workers`` CPUs.

    A process already connected to Ray keeps that connection (and ``close()``
    leaves it alone).

    Raises
    ------
    MissingExtraError
        When Ray is not installed.
    RayConnectionError
        When ``address`` is given and no cluster answers there.
    """
    ray = import_ray()
    if ray.is_initialized():
        _log.info("using the Ray cluster this process is already connected to")
        return RaySession(ray, own=False)
    if address is not None:
        _log.info("connecting to the Ray cluster at %s", address)
        try:
            ray.init(address=address, logging_level=logging.WARNING)
        except ConnectionError as exc:
            raise RayConnectionError(
                f"ray_address {address!r}: cannot join a Ray cluster there ({error_text(exc)})"
            ) from exc
    else:
        cpus = workers or os.cpu_count() or 1
        _log.info("starting a local Ray instance with %d worker CPU(s)", cpus)
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING)
    return RaySession(ray, own=True)


def run_ray(
    tasks: Sequence[SymbolTask],
    started: Callable[[str], None],
    *,
    session: RaySession,
    workers: int | None,
) -> Iterator[SymbolReport]:
    """Run one Ray task per symbol on ``session``, yielding each report as its task finishes.

    At most ``workers`` tasks are in flight at once (default: the cluster's
    CPUs). Each task's Polars runs on the cluster's CPUs shared out among the
    tasks in flight (``POLARS_MAX_THREADS``, unless this process sets it):
    one thread each when there are at least as many symbols as CPUs, rather
    than every task spreading over every core of its node. When the build is
    interrupted, the pending tasks are cancelled.
    """
    ray = session.ray
    pending: dict[Any, SymbolTask] = {}
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        limit = max(1, workers or cpus)
        threads = os.environ.get(THREADS_ENV) or str(max(1, cpus // min(limit, len(tasks) or 1)))
        # The task function is looked up now, not at import: what runs remotely is
        # whatever omega_pl.universe.task.run_task is in this process.
        remote = ray.remote(
            num_cpus=1,
            max_retries=MAX_RETRIES,
            retry_exceptions=False,
            runtime_env={"env_vars": {THREADS_ENV: threads}},
        )(task_module.run_task)
        queue = deque(tasks)
        while queue or pending:
            while queue and len(pending) < limit:
                task = queue.popleft()
                pending[remote.remote(task)] = task
                started(task.symbol)
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                task = pending.pop(ref)
                try:
                    report: SymbolReport = ray.get(ref)
                except Exception as exc:  # the worker died on every attempt, or Ray failed
                    report = failed(task.symbol, exc)
                yield report
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):  # best effort on the way out
                ray.cancel(ref, force=True)
