"""Runs inside BrowserGym's own virtual environment (made by step_vs_browsergym.py): MiniWoB tasks in
BrowserGym at its fastest settings (slow_mo=0, pre_observation_delay=0), random clicks on clickable
visible elements, and BrowserGym's own timestamps for each phase. Writes one JSON line per reset and
per step. Imports nothing from planact.

    python browsergym_runner.py OUT.jsonl TASK,TASK SEEDS STEPS CHROMIUM
"""

from __future__ import annotations

import json
import random
import sys
import time

import browsergym.miniwob  # noqa: F401 - registers the tasks
import gymnasium as gym
from browsergym.utils.obs import flatten_axtree_to_str


def clickable(obs: dict) -> list[str]:
    props = obs.get("extra_element_properties") or {}
    return sorted(b for b, p in props.items() if p.get("clickable") and (p.get("visibility") or 0) > 0.5)


def use_chromium(path: str) -> None:
    """Every browser BrowserGym launches (the task's, and its chat window's) is the given Chromium:
    `playwright install` cannot download one here."""
    from playwright.sync_api import BrowserType

    launch = BrowserType.launch

    def patched(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        kwargs.setdefault("executable_path", path)
        return launch(self, *args, **kwargs)

    BrowserType.launch = patched


def main() -> None:
    out, tasks, seeds, steps, chromium = sys.argv[1], sys.argv[2].split(","), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    use_chromium(chromium)
    lo, _, hi = seeds.partition("-")
    seed_list = list(range(int(lo), int(hi or lo) + 1))
    rng = random.Random(0)
    with open(out, "w") as f:
        for task in tasks:
            env = gym.make(f"browsergym/miniwob.{task}", headless=True, slow_mo=0, pre_observation_delay=0)
            try:
                for seed in seed_list:
                    t0 = time.perf_counter()
                    obs, _ = env.reset(seed=seed)
                    reset_s = time.perf_counter() - t0
                    axtree = flatten_axtree_to_str(obs["axtree_object"])
                    f.write(json.dumps({"kind": "reset", "task": task, "seed": seed, "seconds": reset_s,
                                        "axtree": axtree}) + "\n")
                    for _ in range(steps):
                        bids = clickable(obs)
                        if not bids:
                            break
                        t0 = time.perf_counter()
                        obs, _, done, _, info = env.step(f'click("{rng.choice(bids)}")')
                        total = time.perf_counter() - t0
                        f.write(json.dumps({
                            "kind": "step", "task": task, "seed": seed, "seconds": total,
                            "act": info["wait_for_page_loading_stop"] - info["action_exec_start"],
                            "validate": info["validation_stop"] - info["validation_start"],
                            "observe": info["get_observation_stop"] - info["get_observation_start"],
                            "error": bool(env.unwrapped.last_action_error)}) + "\n")
                        if done:
                            break
            finally:
                env.close()


if __name__ == "__main__":
    main()
