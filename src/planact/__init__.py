"""planact: Plan-and-Act web agents (planner, executor, dynamic replanning)."""

__version__ = "0.1.0"
