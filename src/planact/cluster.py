"""Joining a Ray cluster (or starting one here) for the work that spreads over machines: synth stages
and eval episodes run in actors, each with its own models and browser; the driver writes the records."""

from __future__ import annotations

import os
import sys
from typing import Any


def connect_ray(address: str):
    """"local" starts a Ray instance on this machine; "auto" or "ray://host:port" joins a cluster.
    The driver's PYTHONPATH goes to the workers so that user modules (scripted models) import."""
    import ray

    if not ray.is_initialized():
        env = {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        kwargs: dict[str, Any] = {"runtime_env": {"env_vars": env}, "log_to_driver": False,
                                  "include_dashboard": False}
        if address == "local":
            ray.init(**kwargs)
        else:
            ray.init(address=address, **kwargs)
    return ray
