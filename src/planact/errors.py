"""The error every layer raises for input a user must fix (a bad option, config file, model spec
or output folder). The CLI prints it as one line and exits 2, before any episode runs."""

from __future__ import annotations


class UsageError(ValueError):
    """Bad input: the message names what is wrong and what to do."""


USAGE_EXIT = 2


class InfrastructureError(RuntimeError):
    """Work keeps failing for reasons outside the agent (a model server, the browser, a site): the run
    stops with what finished kept. The CLI prints it as one line and exits 1."""
