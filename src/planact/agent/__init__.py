"""The agent: planner, executor, replanner, their prompts, and the loop that runs them."""

from .loop import AgentConfig, Environment, PlanActAgent
from .plan import Plan, PlanParseError, PlanStep, parse_plan
from .trace import LLMCall, PlanVersion, StepRecord, Trajectory

__all__ = ["AgentConfig", "Environment", "PlanActAgent", "Plan", "PlanParseError", "PlanStep", "parse_plan",
           "LLMCall", "PlanVersion", "StepRecord", "Trajectory"]
