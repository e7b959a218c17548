"""Run a stage's units concurrently: threads on this machine, or actors on a Ray cluster.

Each unit is processed by a worker built by a picklable factory (so that a Ray actor can build
its own: its own models, its own browser). The driver alone writes the store, so that driver-side
checks (deduplication against everything kept so far, a target count) see every record once.
"""

from __future__ import annotations

import copy
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..cluster import connect_ray
from ..errors import InfrastructureError
from ..llm.base import LLM
from ..llm.registry import load_model
from .records import Record, RecordStore


@dataclass
class Unit:
    key: str
    payload: dict[str, Any] = field(default_factory=dict)


class UnitFailed(RuntimeError):
    """An infrastructure failure (a browser, a site): the unit is not recorded, so the next run
    redoes it; the stage goes on with the other units."""


class Worker(Protocol):
    def process(self, unit: Unit) -> list[Record]: ...

    def close(self) -> None: ...


class ModelCache:
    """Models by spec, loaded once per process and shared by its threads."""

    def __init__(self) -> None:
        self._models: dict[str, LLM] = {}
        self._lock = threading.Lock()

    def get(self, spec: str) -> LLM:
        with self._lock:
            if spec not in self._models:
                self._models[spec] = load_model(spec)
            return self._models[spec]

    def put(self, spec: str, llm: LLM) -> None:
        with self._lock:
            self._models[spec] = llm


WorkerFactory = Callable[[ModelCache], Worker]


@dataclass
class StageStats:
    stage: str
    units: int = 0  # units this stage has in all
    skipped: int = 0  # already done by an earlier run
    processed: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)

    def add(self, records: list[Record]) -> None:
        for r in records:
            if r.kept:
                self.kept += 1
            else:
                self.dropped[(r.reason or "dropped").split(":")[0]] += 1
            self.prompt_tokens += r.usage.get("prompt_tokens", 0)
            self.completion_tokens += r.usage.get("completion_tokens", 0)

    @property
    def records_per_min(self) -> float:
        n = self.kept + sum(self.dropped.values())
        return 60.0 * n / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "units": self.units, "skipped": self.skipped, "processed": self.processed,
                "kept": self.kept, "dropped": dict(self.dropped), "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "wall_s": round(self.wall_s, 2),
                "records_per_min": round(self.records_per_min, 1), "errors": self.errors}


@dataclass
class Execution:
    """How a stage spreads its work: `concurrency` model calls at once, `workers` browsers for
    rollouts, or a Ray cluster (`ray="auto"`, an address, or "local" to start one here)."""

    concurrency: int = 4
    workers: int = 1
    ray: str | None = None
    # this many units in a row failing (a dead model server, a browser that will not start) stop the
    # stage with InfrastructureError; what finished is kept, failed units are redone next run
    max_consecutive_errors: int | None = 5

    def slots(self, uses_browser: bool) -> int:
        return max(1, self.workers if uses_browser else self.concurrency)


Progress = Callable[[str, int, int], None]  # (stage, done, total)
OnBatch = Callable[[list[Record]], list[Record]]


def run_stage(stage: str, store: RecordStore, units: list[Unit], factory: WorkerFactory, execution: Execution,
              *, uses_browser: bool = False, on_batch: OnBatch | None = None,
              stop: Callable[[], bool] | None = None, progress: Progress | None = None,
              models: ModelCache | None = None) -> StageStats:
    """Process the units not yet in `store`; append each unit's records as one batch."""
    stats = StageStats(stage, units=len(units))
    done = store.done_units()
    todo = [u for u in units if u.key not in done]
    stats.skipped = len(units) - len(todo)
    started = time.perf_counter()
    write_lock = threading.Lock()
    streak: list[str] = []
    limit = execution.max_consecutive_errors

    def finish(unit: Unit, records: list[Record] | None, error: str | None = None) -> None:
        with write_lock:
            if records is None:
                stats.errors += 1
                stats.error_messages.append(error or "")
                streak.append(error or "")
                return
            streak.clear()
            if on_batch is not None:
                records = on_batch(records)
            store.append_batch(records, unit.key)
            stats.processed += 1
            stats.add(records)
            if progress:
                progress(stage, stats.skipped + stats.processed, stats.units)

    if progress:
        progress(stage, stats.skipped, stats.units)
    slots = execution.slots(uses_browser)

    def halted() -> bool:
        return bool(limit and len(streak) >= limit) or bool(stop and stop())

    if todo:
        if execution.ray:
            _run_ray(todo, factory, slots, execution.ray, finish, halted)
        else:
            _run_threads(todo, factory, slots, finish, halted, models or ModelCache())
    stats.wall_s = time.perf_counter() - started
    if limit and len(streak) >= limit:
        raise InfrastructureError(f"{stage}: stopped after {len(streak)} units in a row failed (last: "
                                  f"{streak[-1][:300]}); fix the cause and run again: {stats.processed} finished "
                                  "units are kept")
    return stats


def _run_threads(todo: list[Unit], factory: WorkerFactory, slots: int, finish: Callable[..., None],
                 stop: Callable[[], bool] | None, models: ModelCache) -> None:
    """`slots` threads, each with its own worker, made and closed in that thread (Playwright's sync
    objects belong to the thread that made them)."""
    queue = list(reversed(todo))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def take() -> Unit | None:
        with lock:
            if errors or not queue or (stop and stop()):
                return None
            return queue.pop()

    def run() -> None:
        worker: Worker | None = None
        try:
            while (unit := take()) is not None:
                if worker is None:
                    # each thread builds from its own copy of the factory, as each Ray actor does
                    # from its unpickled one: workers may keep per-thread state (a browser)
                    worker = copy.deepcopy(factory)(models)
                try:
                    records = worker.process(unit)
                except UnitFailed as err:
                    finish(unit, None, str(err))
                    continue
                for r in records:
                    r.provenance.extra.setdefault("worker", f"local:{os.getpid()}:{threading.current_thread().name}")
                finish(unit, records)
        except BaseException as err:  # noqa: BLE001 - re-raised in the driver; what was written stays
            with lock:
                errors.append(err)
        finally:
            if worker is not None:
                try:
                    worker.close()
                except Exception:  # noqa: BLE001
                    pass

    threads = [threading.Thread(target=run, name=f"planact-synth-{i}", daemon=True)
               for i in range(min(slots, len(todo)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


class _ActorBody:
    """The Ray actor: one worker (and its models and browser) per actor process."""

    def __init__(self, factory: WorkerFactory) -> None:
        self.worker = factory(ModelCache())

    def process(self, unit: Unit) -> list[dict] | str:
        try:
            records = self.worker.process(unit)
            for r in records:
                r.provenance.extra.setdefault("worker", f"ray:{socket.gethostname()}:{os.getpid()}")
            return [r.model_dump() for r in records]
        except UnitFailed as err:
            return str(err)

    def close(self) -> None:
        self.worker.close()


def _run_ray(todo: list[Unit], factory: WorkerFactory, slots: int, address: str,
             finish: Callable[..., None], stop: Callable[[], bool] | None) -> None:
    ray = connect_ray(address)
    actor_cls = ray.remote(_ActorBody)
    actors = [actor_cls.remote(factory) for _ in range(min(slots, len(todo)))]
    idle = list(actors)
    in_flight: dict[Any, tuple[Unit, Any]] = {}
    queue = list(reversed(todo))
    try:
        while queue or in_flight:
            while queue and idle and not (stop and stop()):
                actor = idle.pop()
                unit = queue.pop()
                in_flight[actor.process.remote(unit)] = (unit, actor)
            if not in_flight:
                break
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                unit, actor = in_flight.pop(ref)
                result = ray.get(ref)
                if isinstance(result, str):
                    finish(unit, None, result)
                else:
                    finish(unit, [Record.model_validate(d) for d in result])
                idle.append(actor)
            if stop and stop():
                queue.clear()
    finally:
        for a in actors:
            try:
                ray.get(a.close.remote())
            except Exception:  # noqa: BLE001
                pass
            ray.kill(a)
