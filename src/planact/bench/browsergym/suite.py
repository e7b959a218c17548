"""BrowserGym environments as a planact suite: `planact eval --suite browsergym/miniwob`.

BrowserGym runs in its own virtual environment (its Playwright is pinned older than planact's), in a
worker process (`worker.py`) that holds the environment. planact's agent sees the page through its own
observation script, run in BrowserGym's page (the same simplified HTML, ids and token counts as
everywhere else in planact), and acts through BrowserGym's action space: each planact action becomes
a BrowserGym action on the element's bid (`actions.py`), so BrowserGym executes and scores the
episode as it would any agent's. The task's reward is BrowserGym's."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from ...config import BrowserGymSettings
from ...web.actions import Action
from ...web.browser import BrowserSession, find_chromium
from ...web.env import ActionResult
from ...web.observation import Observation, ObservationOptions, add_tab_line, build_observation, page_script
from ..base import Score, TaskInfo, TaskInstance, UnknownTaskError
from .actions import Untranslatable, to_browsergym


class BrowserGymError(RuntimeError):
    """BrowserGym's worker failed or did not answer in time."""


def ensure_python(settings: BrowserGymSettings) -> Path:
    """The Python that runs BrowserGym: the configured one, or the virtual environment's (made here,
    with BrowserGym's packages, on first use)."""
    if settings.python:
        return Path(settings.python)
    venv = Path(settings.venv)
    python = venv / "bin" / "python"
    stamp = venv / "planact-packages.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == settings.packages:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", *settings.packages], capture_output=True,
                          text=True)
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BrowserGymError(f"could not install {' '.join(settings.packages)} into {venv}: {tail[0]}")
    stamp.write_text(json.dumps(settings.packages))
    return python


def miniwob_url() -> str:
    """Where BrowserGym's MiniWoB tasks load their pages: the miniwob wheel's HTML, as planact's suite."""
    from ..miniwob import MiniWoBSuite

    return Path(MiniWoBSuite().task_path("click-button")).parent.as_uri() + "/"


def _shut(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.stdin.close()
            proc.wait(timeout=20)
        except Exception:  # noqa: BLE001 - it would not go quietly
            proc.kill()


class WorkerProcess:
    """One BrowserGym worker: requests and answers as JSON lines, each answer within a time limit."""

    def __init__(self, python: Path, timeout_s: float) -> None:
        env = {**os.environ}
        env.setdefault("MINIWOB_URL", miniwob_url())
        self.timeout_s = timeout_s
        self.proc = subprocess.Popen([str(python), str(Path(__file__).with_name("worker.py"))], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.answers: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        # when planact exits or drops the worker: its stdin closes, and it closes BrowserGym's browser
        weakref.finalize(self, _shut, self.proc)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.answers.put(line)
        self.answers.put(None)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, op: str, timeout_s: float | None = None, **fields: Any) -> dict:
        if not self.alive():
            raise BrowserGymError("BrowserGym's worker has exited")
        self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.proc.stdin.flush()
        try:
            line = self.answers.get(timeout=timeout_s or self.timeout_s)
        except queue.Empty:
            self.kill()
            raise BrowserGymError(f"BrowserGym did not answer {op!r} within {timeout_s or self.timeout_s:.0f} s") from None
        if line is None:
            raise BrowserGymError(f"BrowserGym's worker exited during {op!r}")
        answer = json.loads(line)
        if "error_type" in answer:
            raise BrowserGymError(f"BrowserGym {op}: {answer['error_type']}: {answer['message']}")
        return answer

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.alive():
            try:
                self.request("close", timeout_s=30)
            except BrowserGymError:
                pass
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class BrowserGymEnv:
    """The agent's environment for one BrowserGym episode: planact's observations of BrowserGym's page,
    planact's actions carried out as BrowserGym's."""

    def __init__(self, worker: WorkerProcess, state: dict, options: ObservationOptions, count_tokens) -> None:  # noqa: ANN001
        self.worker = worker
        self.state = state  # the episode's last step: reward, terminated, ...
        self.obs_options = options
        self.count_tokens = count_tokens
        self.bids: dict[int, str] = {}

    def observe(self) -> Observation:
        o = self.obs_options
        args = {"viewportOnly": o.viewport_only, "maxText": o.max_text, "maxMs": o.max_ms,
                "maxChars": o.token_budget * 8}
        got = self.worker.request("observe", options=args)
        self.bids = {int(k): v for k, v in got["bids"].items()}
        obs = build_observation(got["raw"], got["url"], got["title"], o, self.count_tokens)
        add_tab_line(obs, [t["title"] for t in got["tabs"]], next((t["index"] for t in got["tabs"] if t["current"]), 0),
                     self.count_tokens)
        return obs

    def act(self, action: Action) -> ActionResult:
        t0 = time.perf_counter()
        try:
            command = to_browsergym(action, self.bids)
        except (Untranslatable, ValueError) as err:
            return ActionResult(False, str(err), "", time.perf_counter() - t0)
        step = self.worker.request("step", action=command)
        self.state.update(step)
        error = step["error"] or None
        return ActionResult(error is None, error, step["url"], time.perf_counter() - t0)

    def finished(self) -> bool:
        return bool(self.state.get("terminated") or self.state.get("truncated"))


class BrowserGymSuite:
    """`browsergym/<package>`: the environments `browsergym.<package>` registers (miniwob, webarena,
    workarena, ...), by the name after the package (`click-button` for browsergym/miniwob.click-button)."""

    seeded = True  # BrowserGym's reset(seed=...) picks the instance

    def __init__(self, package: str, settings: BrowserGymSettings | None = None) -> None:
        self.package = package
        self.name = f"browsergym/{package}"
        self.settings = settings or BrowserGymSettings()
        self._workers: dict[int, WorkerProcess] = {}
        self._state: dict[int, dict] = {}
        self._tasks: list[str] | None = None
        self._lock = threading.Lock()

    def worker(self, session: BrowserSession | None) -> WorkerProcess:
        """One worker per browser session (each eval worker has its own), started on first use."""
        key = id(session)
        with self._lock:
            w = self._workers.get(key)
            if w is None or not w.alive():
                w = self._workers[key] = WorkerProcess(ensure_python(self.settings), self.settings.timeout_s)
            return w

    def browser_options(self, base):  # noqa: ANN001, ANN201 - planact's own browser is not used
        return base

    def tasks(self) -> list[TaskInfo]:
        if self._tasks is None:
            self._tasks = self.worker(None).request("tasks", package=self.package)["tasks"]
        return [TaskInfo(t, self.name, site=self.package) for t in self._tasks]

    def check_task(self, task_id: str) -> None:
        names = [t.id for t in self.tasks()]
        if task_id not in names:
            import difflib

            close = difflib.get_close_matches(task_id, names, n=3)
            raise UnknownTaskError(f"{self.name} has no task {task_id!r}"
                                   + (f"; did you mean {', '.join(close)}?" if close else ""))

    def reset(self, session: BrowserSession, task_id: str, seed: int | None) -> TaskInstance:
        got = self.worker(session).request(
            "open", env_id=f"browsergym/{self.package}.{task_id}", seed=seed, chromium=find_chromium(None),
            observe_js=page_script("observe"), kwargs=self.settings.env_kwargs)
        self._state[id(session)] = {"reward": 0.0, "terminated": False, "truncated": False}
        return TaskInstance(task_id, seed, got["goal"], got["url"])

    def make_env(self, session: BrowserSession, instance: TaskInstance, options: ObservationOptions,
                 count_tokens) -> BrowserGymEnv:  # noqa: ANN001
        return BrowserGymEnv(self.worker(session), self._state[id(session)], options, count_tokens)

    def finished(self, session: BrowserSession, instance: TaskInstance) -> bool:
        state = self._state.get(id(session), {})
        return bool(state.get("terminated") or state.get("truncated"))

    def score(self, session: BrowserSession, instance: TaskInstance, answer: str | None) -> Score:
        state = self._state[id(session)]
        if answer is not None and not self.finished(session, instance):
            # the agent's answer goes to BrowserGym's chat, where its tasks look for it
            state.update(self.worker(session).request("step", action=f"send_msg_to_user({json.dumps(answer)})"))
        reward = float(state.get("reward") or 0.0)
        return Score(reward=reward, success=reward > 0, raw_reward=reward,
                     details={"terminated": state.get("terminated"), "truncated": state.get("truncated")})

    def close(self) -> None:
        with self._lock:
            for w in self._workers.values():
                w.close()
            self._workers.clear()
