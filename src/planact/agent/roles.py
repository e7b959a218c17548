"""The three roles. Each renders its versioned prompt, calls its model, strips reasoning, parses,
and turns malformed output into feedback instead of a crash."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from ..llm.base import LLM, ChatMessage, Generation, GenerationOptions, accepts_images
from ..llm.images import fit_image
from ..web.actions import Action, ParseError, parse_action
from ..web.observation import Observation
from .cot import split_reasoning
from .grammars import ELEMENT_LINE_GRAMMAR, action_grammar, plan_grammar, task_words
from .grounding import candidates, field_targets
from .plan import Plan, PlanParseError, PlanStep, distinct_steps, parse_plan, repeats_a_step
from .prompts import DEFAULT_VERSION, PromptTemplate, load_prompt
from .trace import LLMCall


@dataclass
class RoleSettings:
    max_tokens: int = 512
    temperature: float = 0.0
    cot: bool = False
    use_grammar: bool = True  # only servers/runtimes that take GBNF use it
    max_attempts: int = 2  # a malformed answer is sent back with the error this many times - 1
    grammar_notes: bool = True  # the action grammar allows `# Note:` lines
    grammar_exit: bool = True  # the action grammar allows exit(...)
    vision: bool = False  # the page's screenshot goes with the prompt to a model that takes images
    # executor: write "# Element: ..." first, then choose the id among the elements that show the text the
    # description quotes (agent/grounding.py); two calls, the second continuing the first
    ground_element: bool = False
    # executor: what Type and Search write is made of the task's words (grammars.task_words)
    type_from_task: bool = False
    # Type / Search only into a field, Select Dropdown Option only in a list (agent/grounding.py field_targets)
    type_into_fields: bool = False
    image_tokens: int = 0  # the screenshot is scaled down to cost at most this many tokens (0: as taken)


@dataclass
class RoleOutput:
    raw: str
    reasoning: str | None
    calls: list[LLMCall]


def _call(llm: LLM, role: str, prompt: PromptTemplate, variables: dict, settings: RoleSettings,
          step: int, grammar: str | None, feedback: str | None, attempt: int,
          stop_when: Callable[[str], bool] | None = None,
          screenshot: bytes | None = None, prefill: str | None = None,
          max_tokens: int | None = None) -> tuple[Generation, LLMCall]:
    system, user = prompt.render(**variables)
    images = (screenshot,) if screenshot and settings.vision and accepts_images(llm) else ()
    if feedback:
        user += f"\n\nYour previous answer could not be used: {feedback}\nAnswer again in the required format."
    options = GenerationOptions(
        max_tokens=max_tokens or settings.max_tokens,
        temperature=settings.temperature,
        prefill=prefill if prefill is not None else ("<think>\n" if settings.cot else ""),
        grammar=grammar if settings.use_grammar else None,
        stop_when=stop_when,
    )
    detail, cost = "auto", 0
    if images:
        fitted, cost, detail = fit_image(images[0], settings.image_tokens)
        images = (fitted,)
    gen = llm.generate([ChatMessage("system", system), ChatMessage("user", user, images, detail)], options)
    notes = list(gen.notes)
    if images:  # the trace says what the model saw: the step's own screenshot, and what it costs
        notes.append(f"the page's screenshot was sent ({len(images[0]) // 1024} KB JPEG, about {cost} tokens"
                     f"{', low detail' if detail == 'low' else ''})")
    call = LLMCall(role, gen.model, gen.usage.prompt_tokens, gen.usage.completion_tokens, gen.latency_s, step,
                   attempt, notes, gen.usage.cached_tokens)
    return gen, call


class PlannerRole:
    """Writes the initial plan (role="planner") or rewrites the rest of it (role="replanner")."""

    def __init__(self, llm: LLM, settings: RoleSettings | None = None, role: str = "planner",
                 prompt_version: str = DEFAULT_VERSION, prompt_dir: str | None = None) -> None:
        self.llm = llm
        self.role = role
        self.settings = settings or RoleSettings()
        self.prompt = load_prompt(role, prompt_version, prompt_dir)

    def run(self, variables: dict, step: int,
            screenshot: bytes | None = None) -> tuple[Plan | None, RoleOutput, str | None]:
        calls: list[LLMCall] = []
        feedback: str | None = None
        raw, reasoning = "", None
        grammar = plan_grammar(cot=self.settings.cot)
        for attempt in range(self.settings.max_attempts):
            gen, call = _call(self.llm, self.role, self.prompt, {**variables, "cot": self.settings.cot},
                              self.settings, step, grammar, feedback, attempt, stop_when=repeats_a_step,
                              screenshot=screenshot)
            calls.append(call)
            raw = gen.text
            reasoning, answer = split_reasoning(raw)
            try:  # a plan ends at its last distinct step (the generation stops when a step repeats)
                return distinct_steps(parse_plan(answer)), RoleOutput(raw, reasoning, calls), None
            except PlanParseError as err:
                feedback = str(err)
        return None, RoleOutput(raw, reasoning, calls), feedback

    def plan(self, task: str, obs: Observation) -> tuple[Plan | None, RoleOutput, str | None]:
        return self.run({"task": task, "url": obs.url, "html": obs.html}, step=0, screenshot=obs.screenshot)

    def replan(self, task: str, plan: Plan | None, history: str, obs: Observation,
               step: int) -> tuple[Plan | None, RoleOutput, str | None]:
        current = plan.render() if plan else "(no plan)"
        return self.run({"task": task, "plan": current, "history": history or "None yet.",
                         "url": obs.url, "html": obs.html}, step=step, screenshot=obs.screenshot)


def fallback_plan(task: str) -> Plan:
    """Used when the planner never produced a parsable plan: the task itself as one step."""
    return Plan([PlanStep(step=f"Complete the task: {task}", reasoning="The planner's output could not be parsed.")])


class ExecutorRole:
    def __init__(self, llm: LLM, settings: RoleSettings | None = None, prompt_version: str = DEFAULT_VERSION,
                 prompt_dir: str | None = None) -> None:
        self.llm = llm
        self.settings = settings or RoleSettings(max_tokens=256)
        self.prompt = load_prompt("executor", prompt_version, prompt_dir)

    def next_action(self, variables: dict, obs: Observation, step: int, feedback: str | None,
                    avoid: Collection[tuple[str, int | None]] = ()) -> tuple[Action | None, RoleOutput, str | None]:
        """One model call, or two with `ground_element` (the `# Element:` line, then the action among the
        ids it narrowed to). A parse failure is returned, and goes back as feedback on the next step,
        which counts against the step budget. `avoid`: (action, element) pairs the grammar leaves out."""
        s = self.settings
        variables = {**variables, "cot": self.settings.cot, "has_plan": bool(variables.get("plan"))}
        calls: list[LLMCall] = []
        ids, prefill = list(obs.elements), None
        if s.ground_element and not s.cot:
            # first what it acts on, then an id among the elements that show what it named
            gen, call = _call(self.llm, "executor", self.prompt, variables, s, step, ELEMENT_LINE_GRAMMAR, feedback,
                              0, screenshot=obs.screenshot, max_tokens=48)
            calls.append(call)
            prefill = gen.text if gen.text.endswith("\n") else gen.text + "\n"
            named = candidates(prefill, obs)
            if named and all(("Click", i) in avoid for i in named):
                # what it named was clicked on this very page and nothing changed: the grammar would only
                # leave Type or Select on it, so every id is allowed again
                call.notes.append(f"clicking {named} changed nothing here: every id allowed")
            elif named:
                ids = named
                call.notes.append(f"element ids narrowed to {ids}")
            else:
                call.notes.append("no element shows the quoted text: every id allowed")
        words = task_words(str(variables.get("task", ""))) if s.type_from_task else ()
        targets = field_targets(ids, obs) if s.type_into_fields else None
        grammar = action_grammar(ids, cot=s.cot, notes=s.grammar_notes, exit_=s.grammar_exit, avoid=avoid,
                                 words=words, targets=targets)
        gen, call = _call(self.llm, "executor", self.prompt, variables, s, step, grammar, feedback, 0,
                          screenshot=obs.screenshot, prefill=prefill)
        calls.append(call)
        reasoning, answer = split_reasoning(gen.text)
        out = RoleOutput(gen.text, reasoning, calls)
        try:
            action = parse_action(answer)
        except ParseError as err:
            return None, out, str(err)
        if action.element is not None and action.element not in obs.elements:
            return None, out, f"element {action.element} is not on the current page; use an id from the page"
        return action, out, None
