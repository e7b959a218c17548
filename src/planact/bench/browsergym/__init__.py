"""The BrowserGym bridge: BrowserGym's environments as planact suites (`suite`), planact's actions as
BrowserGym's (`actions`), and the worker that runs inside BrowserGym's own virtual environment."""

from .actions import to_browsergym
from .suite import BrowserGymEnv, BrowserGymError, BrowserGymSuite

__all__ = ["BrowserGymEnv", "BrowserGymError", "BrowserGymSuite", "to_browsergym"]
