"""The two engines that run symbol tasks: in this process, or as Ray tasks.

Both take the same :class:`~omega_pl.universe.task.SymbolTask` objects and
yield one :class:`~omega_pl.universe.report.SymbolReport` per task, in the order
the tasks finish; the driver (:func:`~omega_pl.build_dataset`) moves each
finished symbol into place as its report arrives.

* :func:`run_local`: one symbol after the other in this process. Polars
  already runs each plan on every core, and only one symbol's frame is ever
  held.
* :func:`run_ray`: one Ray task per symbol. Each task opens its own files
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
from typing import Any

from omega_pl.errors import MissingExtraError
from omega_pl.universe import task as task_module
from omega_pl.universe.report import SymbolReport
from omega_pl.universe.task import SymbolTask, failed

__all__ = ["MAX_RETRIES", "import_ray", "run_local", "run_ray"]

#: How often Ray retries a symbol's task after its worker process died.
MAX_RETRIES = 3

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


def _connect(ray: Any, address: str | None, workers: int | None) -> bool:
    """Start or join Ray unless this process is connected already; whether it was started here."""
    if ray.is_initialized():
        _log.info("using the Ray cluster this process is already connected to")
        return False
    if address is not None:
        _log.info("connecting to the Ray cluster at %s", address)
        ray.init(address=address, logging_level=logging.WARNING)
    else:
        cpus = workers or os.cpu_count() or 1
        _log.info("starting a local Ray instance with %d worker CPU(s)", cpus)
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING)
    return True


def run_ray(
    tasks: Sequence[SymbolTask],
    started: Callable[[str], None],
    *,
    address: str | None,
    workers: int | None,
) -> Iterator[SymbolReport]:
    """Run one Ray task per symbol, yielding each report as its task finishes.

    Joins the cluster at ``address`` (``ray.init(address=...)``; ``"auto"``
    finds a running one) or, without it, starts a local instance with
    ``workers`` CPUs (default: every core); a process already connected to
    Ray keeps its connection. At most ``workers`` tasks are in flight at once
    (default: the cluster's CPUs). A Ray instance started here is shut down
    when the tasks are done, or when the build is interrupted (the pending
    tasks are cancelled).
    """
    ray = import_ray()
    own = _connect(ray, address, workers)
    pending: dict[Any, SymbolTask] = {}
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        limit = max(1, workers or cpus)
        # The task function is looked up now, not at import: what runs remotely is
        # whatever omega_pl.universe.task.run_task is in this process.
        remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(
            task_module.run_task
        )
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
        if own:
            ray.shutdown()
