"""Per-episode artefacts: trace.json (machine-readable) and report.html (self-contained)."""

from __future__ import annotations

import base64
import json
from importlib import resources
from pathlib import Path

import jinja2

from ..agent.trace import Trajectory


def write_episode(traj: Trajectory, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[str | None] = []
    for step in traj.steps:
        if step.screenshot_bytes:
            step.screenshot = f"step-{step.index:02d}.jpg"
            (folder / step.screenshot).write_bytes(step.screenshot_bytes)
            shots.append(base64.b64encode(step.screenshot_bytes).decode())
        else:
            shots.append(None)
    final_shot = None
    if traj.final_screenshot_bytes:
        traj.final_screenshot = "final.jpg"
        (folder / "final.jpg").write_bytes(traj.final_screenshot_bytes)
        final_shot = base64.b64encode(traj.final_screenshot_bytes).decode()
    trace_path = folder / "trace.json"
    tmp = trace_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(traj.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(trace_path)
    template = jinja2.Environment(autoescape=True).from_string(
        resources.files("planact.bench").joinpath("templates/episode.html").read_text(encoding="utf-8")
    )
    report_path = folder / "report.html"
    report_path.write_text(template.render(t=traj, usage=traj.usage(), shots=shots, final_shot=final_shot),
                           encoding="utf-8")
    return trace_path, report_path
