"""planact: Plan-and-Act web agents (planner, executor, dynamic replanning).

    from planact import Agent
    result = Agent().run("Click the Submit button", url="https://example.com/form")

The layered pieces are here too, for those who compose their own: `load_model` (llm), `BrowserSession`,
`BrowserEnv`, `parse_action` (web), `PlanActAgent`, `AgentConfig` (agent), `get_suite`, `run_eval`
(bench), `PlanActConfig`. They are imported on first use, so `import planact` stays cheap.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "Agent": "planact.api", "AgentError": "planact.api",
    "PlanActConfig": "planact.config",
    "load_model": "planact.llm", "ChatMessage": "planact.llm.base", "GenerationOptions": "planact.llm.base",
    "BrowserSession": "planact.web", "BrowserOptions": "planact.web", "BrowserEnv": "planact.web",
    "ObservationOptions": "planact.web", "parse_action": "planact.web",
    "PlanActAgent": "planact.agent", "AgentConfig": "planact.agent", "Trajectory": "planact.agent.trace",
    "build_agent": "planact.agent.factory",
    "get_suite": "planact.bench.registry", "run_eval": "planact.bench.runner", "RunSettings": "planact.bench.runner",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):  # noqa: ANN202 - PEP 562: the pieces load when first asked for
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'planact' has no attribute {name!r}")
