"""The browser: Playwright session, simplified-HTML observations, and the WebRL action format."""

from .actions import ACTION_SPACE, Action, ParseError, parse_action
from .browser import BrowserError, BrowserOptions, BrowserSession, host_allowed
from .env import ActionResult, BrowserEnv
from .observation import ElementInfo, Observation, ObservationOptions

__all__ = [
    "ACTION_SPACE", "Action", "ParseError", "parse_action", "BrowserError", "BrowserOptions", "BrowserSession",
    "host_allowed", "ActionResult", "BrowserEnv", "ElementInfo", "Observation", "ObservationOptions",
]
