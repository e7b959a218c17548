"""Build an agent from the configuration: one model per distinct spec, shared by the roles (each role
with a context of its own where the runtime can fork one, so that each keeps its prompt cache)."""

from __future__ import annotations

from collections.abc import Callable

from ..config import PlanActConfig
from ..llm.base import LLM
from ..llm.registry import bundle_agent_settings, load_model, role_spec
from .loop import AgentConfig, PlanActAgent


def agent_config(cfg: PlanActConfig) -> AgentConfig:
    a = cfg.agent
    # settings left unset follow what the executor's model bundle recommends (else off)
    recommended = bundle_agent_settings(cfg.models.executor)

    def pick(name: str) -> bool:
        value = getattr(a, name)
        return bool(recommended.get(name, False) if value is None else value)

    return AgentConfig(
        use_planner=not a.no_planner, replan=a.replan, replan_on=tuple(a.replan_on), replan_every=a.replan_every,
        vision=a.vision, image_tokens=a.image_tokens, ground_element=pick("ground_element"),
        cot=a.cot, max_steps=a.max_steps, max_repeats=a.max_repeats,
        avoid_futile=pick("avoid_futile"), type_from_task=pick("type_from_task"),
        type_into_fields=pick("type_into_fields"), episode_timeout_s=a.episode_timeout_s,
        planner_max_tokens=a.planner_max_tokens, executor_max_tokens=a.executor_max_tokens,
        temperature=a.temperature, use_grammar=a.grammar,
        grammar_notes=a.grammar_notes, grammar_exit=a.grammar_exit,
        explore=a.explore, explore_seed=a.explore_seed, prompt_version=a.prompt_version, prompt_dir=a.prompt_dir,
    )


def build_agent(cfg: PlanActConfig, load: Callable[[str], LLM] | None = None) -> PlanActAgent:
    """One backend per distinct spec, shared by the roles that name it. `load` (default
    `load_model`) lets a caller share its own cache, e.g. the synth pipeline's per-process one."""
    cache: dict[str, LLM] = {}

    def get(spec: str) -> LLM:
        if spec not in cache:
            cache[spec] = (load or load_model)(spec)
        return cache[spec]

    taken: set[int] = set()

    def own(llm: LLM) -> LLM:
        """A role's model: the shared one, or a fork of it with its own context once another role has it."""
        if id(llm) in taken and cfg.agent.prefix_cache and hasattr(llm, "fork"):
            return llm.fork()
        taken.add(id(llm))
        return llm

    ac = agent_config(cfg)
    executor = own(get(role_spec(cfg.models.executor, "executor")))
    planner = replanner = None
    if ac.use_planner:
        planner = own(get(role_spec(cfg.models.planner, "planner")))
        if ac.replan in ("every-step", "adaptive"):
            replanner = own(get(role_spec(cfg.models.replanner or cfg.models.planner, "replanner")))
    return PlanActAgent(executor=executor, planner=planner, replanner=replanner, config=ac)
