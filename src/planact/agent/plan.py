"""Plans in the Plan-and-Act format, and a parser that survives sloppy model output.

    ## Step 1
    Reasoning: The search box is on the home page.
    Step: Search for "blue kettle".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class PlanParseError(ValueError):
    pass


@dataclass
class PlanStep:
    step: str
    reasoning: str = ""
    # For grounded plans: indices of the trajectory's actions this step covers.
    actions: list[int] | None = None


@dataclass
class Plan:
    steps: list[PlanStep] = field(default_factory=list)

    def render(self) -> str:
        out = []
        for i, s in enumerate(self.steps, 1):
            out.append(f"## Step {i}")
            if s.reasoning:
                out.append(f"Reasoning: {s.reasoning}")
            out.append(f"Step: {s.step}")
            if s.actions is not None:
                out.append(f"Actions: {', '.join(map(str, s.actions))}")
        return "\n".join(out)

    def to_dict(self) -> list[dict]:
        return [{"step": s.step, "reasoning": s.reasoning, **({"actions": s.actions} if s.actions is not None else {})}
                for s in self.steps]


_HEADER = re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?[ \t]*Step[ \t]*([0-9]{1,4})[ \t]*(?:\*\*)?[ \t]*[:.)\-]?[ \t]*(?:\*\*)?(.*)$",
                     re.IGNORECASE | re.MULTILINE)
_FIELD = re.compile(r"^[ \t]*[-*]?[ \t]*(?:\*\*)?(Reasoning|Step|Actions?)(?:\*\*)?[ \t]*:(?:\*\*)?[ \t]*(.*)$",
                    re.IGNORECASE)
_NUMBERED = re.compile(r"^[ \t]*([0-9]{1,4})[.)][ \t]+(.+)$", re.MULTILINE)
_INDEX = re.compile(r"[0-9]{1,6}")
_RANGE = re.compile(r"([0-9]{1,6})-([0-9]{1,6})")


def parse_indices(text: str) -> list[int]:
    """An `Actions:` line: ASCII numbers separated by commas, spaces or "and", and ranges `2-4`.
    Anything else (a negative number, other digits, words) is a PlanParseError a model can act on."""
    if not re.search(r"\d", text):
        return []  # "Actions: none": no indices (a grounding check says what is missing)
    norm = re.sub(r"(?<=[0-9])\s*(?:-|–|to)\s*(?=[0-9])", "-", text.strip().rstrip(".").strip("[]() "))
    out: list[int] = []
    for token in re.split(r"\s*,\s*|\s+and\s+|\s+", norm):
        if not token:
            continue
        if _INDEX.fullmatch(token):
            out.append(int(token))
        elif (m := _RANGE.fullmatch(token)) and int(m.group(1)) <= int(m.group(2)) <= int(m.group(1)) + 100:
            out.extend(range(int(m.group(1)), int(m.group(2)) + 1))
        else:
            shown = token if len(token) <= 20 else token[:20] + "..."
            raise PlanParseError(f"'Actions:' must list action numbers such as 1, 2 or 3-5; {shown!r} is not one")
    return out


def _parse_chunk(header_rest: str, body: str) -> PlanStep | None:
    fields: dict[str, list[str]] = {"reasoning": [], "step": [], "actions": []}
    current: str | None = None
    loose: list[str] = []
    # "Reasoning: ... . Step: ..." written on one line
    body = re.sub(r"(?<=[.!?])[ \t]+(?=(?:\*\*)?(?:Step|Reasoning|Actions?)(?:\*\*)?[ \t]*:)", "\n", body)
    for line in body.splitlines():
        m = _FIELD.match(line)
        if m:
            current = m.group(1).lower().rstrip("s") if m.group(1).lower().startswith("action") else m.group(1).lower()
            current = "actions" if current == "action" else current
            fields[current].append(m.group(2).strip())
        elif line.strip():
            (fields[current] if current else loose).append(line.strip())
    step = " ".join(fields["step"]).strip() or " ".join([header_rest.strip(), *loose]).strip()
    step = step.strip("* ").strip()
    if not step:
        return None
    actions = None
    if fields["actions"]:
        actions = parse_indices(" ".join(fields["actions"]))
    return PlanStep(step=step, reasoning=" ".join(fields["reasoning"]).strip(), actions=actions)


def _norm(step: str) -> str:
    return re.sub(r"\W+", " ", step).strip().lower()


def distinct_steps(plan: Plan) -> Plan:
    """The plan up to its last distinct step: a small model that starts repeating a step repeats it
    to the token limit, and the repeats are no plan."""
    seen: set[str] = set()
    for i, s in enumerate(plan.steps):
        key = _norm(s.step)
        if key in seen:
            return Plan(plan.steps[:i])
        seen.add(key)
    return plan


_STEP_LINE = re.compile(r"^[ \t]*(?:\*\*)?Step(?:\*\*)?[ \t]*:(?:\*\*)?[ \t]*(.+)\n", re.IGNORECASE | re.MULTILINE)


def repeats_a_step(text: str) -> bool:
    """Whether a plan being written has written one of its `Step:` lines twice (a generation can stop)."""
    seen: set[str] = set()
    for m in _STEP_LINE.finditer(text):
        key = _norm(m.group(1))
        if key in seen:
            return True
        seen.add(key)
    return False


def parse_plan(text: str) -> Plan:
    """Parse `## Step N` blocks; fall back to a numbered list. Raises PlanParseError if no step."""
    headers = list(_HEADER.finditer(text))
    steps: list[PlanStep] = []
    for i, h in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        rest = h.group(2)
        if _FIELD.match(rest or ""):  # "Step 1: Reasoning: ..." on one line
            body, rest = rest + "\n" + text[h.end():end], ""
        else:
            body = text[h.end():end]
        s = _parse_chunk(rest, body)
        if s:
            steps.append(s)
    if not steps:
        steps = [PlanStep(step=m.group(2).strip()) for m in _NUMBERED.finditer(text)]
    if not steps:
        raise PlanParseError("no plan steps found: write '## Step 1' then 'Reasoning: ...' and 'Step: ...' lines")
    return Plan(steps)
