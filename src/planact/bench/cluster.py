"""`planact eval --ray`: episodes spread over Ray actors, each with its own browser and its own
models (built from the configuration, so nothing loaded travels). An actor plays an episode into a
scratch folder and returns the record with the episode's files (trace, report, screenshots); the
driver alone writes them under the run's folder and appends the record, so resuming works exactly as
for a local run, also after the driver was killed."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from ..cluster import connect_ray
from ..config import PlanActConfig
from .records import EpisodeRecord
from .runner import RunSettings, Tally, episode_dirname, run_episode


class EpisodeActor:
    """One Ray actor: a suite, an agent and a browser, kept across the episodes it plays."""

    def __init__(self, cfg: dict[str, Any], suite_name: str, tasks_file: str | None, settings: RunSettings) -> None:
        from ..agent.factory import build_agent
        from ..web.browser import BrowserSession
        from .registry import get_suite

        config = PlanActConfig.model_validate(cfg)
        self.suite = get_suite(suite_name, config, tasks_file)
        self.agent = build_agent(config)
        self.settings = settings
        self.session = BrowserSession(self.suite.browser_options(settings.browser)).start()
        self.scratch = Path(tempfile.mkdtemp(prefix="planact-actor-"))

    def play(self, task_id: str, seed: int | None) -> tuple[dict[str, Any], dict[str, bytes], str]:
        rec = run_episode(self.suite, self.session, self.agent, task_id, seed, self.scratch, self.settings)
        folder = self.scratch / "episodes" / episode_dirname(task_id, seed)
        files = {str(p.relative_to(self.scratch)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        shutil.rmtree(folder, ignore_errors=True)
        return asdict(rec), files, f"ray:{socket.gethostname()}:{os.getpid()}"

    def close(self) -> None:
        self.session.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def run_eval_ray(address: str, cfg: PlanActConfig, suite_name: str, tasks_file: str | None,
                 jobs: list[tuple[str, int | None]], out_dir: Path, settings: RunSettings, workers: int,
                 on_record: Callable[[EpisodeRecord], None] | None = None,
                 max_consecutive_errors: int | None = 5) -> list[EpisodeRecord]:
    """`jobs` not yet in out_dir/episodes.jsonl on `workers` actors of the cluster at `address`
    ("local" starts one here, "auto" joins the running one, or ray://host:port)."""
    tally = Tally(out_dir, on_record, max_consecutive_errors)
    queue = list(reversed(tally.todo(suite_name, jobs)))
    if not queue:
        return tally.finish()
    ray = connect_ray(address)
    actor_cls = ray.remote(EpisodeActor)
    args = (cfg.model_dump(mode="json"), suite_name, tasks_file, settings)
    actors = [actor_cls.remote(*args) for _ in range(max(1, min(workers, len(queue))))]
    idle = list(actors)
    in_flight: dict[Any, Any] = {}
    try:
        while queue or in_flight:
            while queue and idle and not tally.stop.is_set():
                actor = idle.pop()
                in_flight[actor.play.remote(*queue.pop())] = actor
            if not in_flight:
                break
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                idle.append(in_flight.pop(ref))
                record, files, _worker = ray.get(ref)
                for rel, data in files.items():
                    path = out_dir / rel
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                tally.add(EpisodeRecord(**record))
            if tally.stop.is_set():
                queue.clear()
    finally:
        for a in actors:
            try:
                ray.get(a.close.remote(), timeout=60)
            except Exception:  # noqa: BLE001 - a dead actor has nothing to close
                pass
            ray.kill(a)
    return tally.finish()
