"""The offline annotator: a teacher that needs no model. It writes a grounded plan for a successful
trajectory from its actions and the elements they acted on (their text, label, kind), and the plan
that remains after each action (replanning data). Used by `planact learn` when the only model is
the one being trained, and by `planact synth plans|replan --teacher offline`.

    ## Step 1
    Reasoning: The task says: the username "thaddeus".
    Step: Type "thaddeus" into the "Username" field.
    Actions: 1

Each typed or selected value is a step of its own (v2): with one step "Type "thaddeus" into the Username
field and "tB" into the Password field" (v1), SmolLM2-135M typed the first value into both fields.
Consecutive clicks on the same kind of element (a set of checkboxes) stay one step.

A step that uses a value from the task quotes the task's own words around it (v3): with "The task gives
the text "thaddeus"." (v2) for every value, the trained planner wrote the first value into every step;
"the password "tB"" is a span the model copies from the task after the words that name it.

Elements are named by a quoted text wherever one exists (v4): a field or list by its label (`the
"Username" field`, v3: `the Username field`), an element without text of its own by the first text
inside it (`"tB"` for a <label> around a checkbox, `"Marcella"` for a tree's <li>; v3: `the label
element`). The executor copies these names into its `# Element:` line, and only a quoted name narrows
the ids it may use (agent/grounding.py).
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from ..agent.plan import Plan, PlanStep
from ..web.actions import ParseError, parse_action

OFFLINE_TEACHER = "offline"  # the teacher spec that selects this annotator
ANNOTATOR_VERSION = "v4"

_TAG = re.compile(r'<(?P<tag>[a-zA-Z][\w-]*) id="(?P<id>\d+)"(?P<attrs>[^>]*)>(?P<text>[^<\n]*)')
_ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')
_LABEL_LINE = re.compile(r'<label id="\d+"[^>]*>([^<\n]+)</label>\s*$')
_FIELD_TYPES = {"", "text", "password", "email", "search", "tel", "url", "number", "date", "time"}
_CLASS_NOISE = {"ui", "hitarea", "icon", "btn", "button", "spacer", "lastexpandable", "expandable"}
# verbs whose consecutive actions on the same kind of element become one plan step (a typed or selected
# value is always a step of its own: the executor copies it from that step)
_MERGE = {"Click"}


@dataclass(frozen=True)
class Element:
    tag: str
    text: str
    attrs: dict[str, str]
    label: str  # the text of a <label> that names it, if any

    @property
    def kind(self) -> str:
        """The element's noun in a plan step: button, link, checkbox, field, list, tab, icon, ..."""
        t, typ, role = self.tag.lower(), self.attrs.get("type", "").lower(), self.attrs.get("role", "").lower()
        if role == "tab" or (t == "a" and self.attrs.get("href", "").startswith("#tabs")):
            return "tab"
        if t == "button" or (t == "input" and typ in ("submit", "button", "reset")):
            return "button"
        if t == "input" and typ == "checkbox":
            return "checkbox"
        if t == "input" and typ == "radio":
            return "radio button"
        if t == "input" and typ == "password":
            return "password field"
        if t == "textarea" or (t == "input" and typ in _FIELD_TYPES):
            return "field"
        if t == "select":
            return "list"
        if t == "option":
            return "option"
        if t == "a":
            return "link"
        if role in ("button", "link", "checkbox", "option", "menuitem", "treeitem"):
            return role
        if not self.text and self.icon:
            return "icon"
        return ""

    @property
    def icon(self) -> str:
        words = []
        for c in self.attrs.get("class", "").split():
            for w in re.split(r"[-_]", c):
                if w and w.lower() not in _CLASS_NOISE and not w.isdigit() and w.lower() not in words:
                    words.append(w.lower())
        return " ".join(words[:2])

    def describe(self) -> str:
        """`the "Next" button`, `the "Username" field`, `the retweet icon`, `"Tula"`."""
        kind = self.kind
        name = self.text or self.label or self.attrs.get("aria-label", "") or self.attrs.get("placeholder", "") \
            or self.attrs.get("title", "")
        name = _clip(name)
        if kind == "icon":
            return f"the {self.icon} icon"
        if kind == "password field":
            return f'the "{name}" field' if name else "the password field"
        if kind in ("field", "list"):
            return f'the "{name}" {kind}' if name else f"the {kind}"
        if kind and name:
            return f'the "{name}" {kind}'
        if name:
            return f'"{name}"'
        return f"the {kind or self.tag.lower()} element"


def _clip(text: str, n: int = 40) -> str:
    text = " ".join(text.split()).strip(" :")
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def find_element(page_html: str, element_id: int) -> Element | None:
    """The element with this id in an observation (planact's simplified HTML: one element a line)."""
    lines = page_html.splitlines()
    for i, line in enumerate(lines):
        m = _TAG.search(line)
        if not m or int(m.group("id")) != element_id:
            continue
        attrs = {k: html_lib.unescape(v or "") for k, v in _ATTR.findall(m.group("attrs"))}
        text = html_lib.unescape(m.group("text")).strip()
        label = ""
        if m.group("tag").lower() in ("input", "select", "textarea"):
            after = line[m.end():]
            wrapped = re.match(r"\s*([^<\n]+)</label>", after)
            if wrapped:  # <label><input type="checkbox">tB</label>
                text = text or wrapped.group(1).strip()
            elif i > 0 and (prev := _LABEL_LINE.search(lines[i - 1])):
                label = html_lib.unescape(prev.group(1)).strip()
            elif i > 0:
                # <label id="3">Tags: </label> on the line before, with the input on its own line
                prev_text = re.search(r'<label id="\d+"[^>]*>([^<\n]+)', lines[i - 1])
                label = html_lib.unescape(prev_text.group(1)).strip() if prev_text else ""
        elif not text:  # <label><input type="checkbox">tB</label>, <li><span>Marcella</span>...
            text = first_texts(page_html).get(element_id, "")
        return Element(m.group("tag"), text, attrs, label)
    return None


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _FirstText(HTMLParser):
    """For each element id, the first non-blank text inside it (its own or a descendant's)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[int | None] = []
        self.first: dict[int, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        ident = dict(attrs).get("id")
        self.open.append(int(ident) if ident and ident.isdigit() else None)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text:
            for ident in self.open:
                if ident is not None:
                    self.first.setdefault(ident, text)


def first_texts(page_html: str) -> dict[int, str]:
    parser = _FirstText()
    parser.feed(page_html)
    parser.close()
    return parser.first


@dataclass
class Described:
    """One action of a trajectory, with the phrase that a plan step uses for it."""
    number: int  # 1-based among the trajectory's actions
    name: str  # the action's name (Click, Type, ..., exit)
    argument: str | None
    element: Element | None
    target: str  # how the element is named, e.g. `the "Next" button`

    @property
    def merge_key(self) -> tuple[str, str] | None:
        if self.name not in _MERGE or self.element is None:
            return None
        return self.name, (self.element.kind if self.name == "Click" else "")


def describe_action(call: str, page_html: str, number: int) -> Described:
    try:
        action = parse_action(call)
    except ParseError:
        return Described(number, "unknown", None, None, call)
    el = find_element(page_html, action.element) if action.element is not None else None
    target = el.describe() if el is not None else (f"element {action.element}" if action.element is not None else "")
    arg = action.message if action.is_exit else action.argument
    return Described(number, action.name, arg, el, target)


def _phrase(group: list[Described]) -> str:
    first = group[0]
    if first.name == "Type":
        parts = [f'"{d.argument}" into {d.target}' for d in group]
        return "Type " + _join(parts) + "."
    if first.name == "Select Dropdown Option":
        return "Select " + _join([f'"{d.argument}" in {d.target}' for d in group]) + "."
    if first.name == "Click" and len(group) > 1:
        kind = first.element.kind if first.element else ""
        names = [d.element.text or d.target for d in group if d.element] if kind else [d.target for d in group]
        if kind and all(names):
            return f"Click the {_join([f'{_q(n)}' for n in names])} {kind}{'es' if kind.endswith('x') else 's'}."
        return "Click " + _join([d.target for d in group]) + "."
    simple = {
        "Click": f"Click {first.target}.",
        "Hover": f"Hover over {first.target}.",
        "Search": f'Search for "{first.argument}" in {first.target}.',
        "Press Enter": "Press Enter.",
        "Scroll Down": "Scroll down the page.",
        "Scroll Up": "Scroll up the page.",
        "Go Backward": "Go back to the previous page.",
        "Go Forward": "Go forward to the next page.",
        "exit": f'Answer "{first.argument}".' if first.argument else "Finish: the task is done.",
    }
    return simple.get(first.name, f"Do {first.target}.")


def _q(text: str) -> str:
    return f'"{_clip(text)}"'


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


_CONTEXT_WORDS = 2


def task_span(task: str, value: str) -> str | None:
    """The task's own words for a value it contains: up to two words before it (not reaching back past
    a quote) and the value, with its quotes when the task quotes it: 'the password "x1"'."""
    at = task.lower().find(value.lower())
    if at < 0 or not value.strip():
        return None
    end = at + len(value)
    if at > 0 and task[at - 1] in "\"\u201c" and end < len(task) and task[end] in "\"\u201d":
        at, end = at - 1, end + 1
    before = task[:at]
    cut = max(before.rfind('"'), before.rfind("\u201d")) + 1  # not back past a quoted value
    words = before[cut:].split()
    context = " ".join(words[-_CONTEXT_WORDS:])
    span = f"{context} {task[at:end]}" if context else task[at:end]
    return span if len(span) <= 80 else _clip(task[at:end], 80)


def _reasoning(group: list[Described], task: str, last: bool) -> str:
    low = task.lower()
    first = group[0]
    named = [d.argument for d in group if d.argument and d.argument.lower() in low]
    if named:
        return f"The task says: {task_span(task, named[0])}."
    texts = [d.element.text for d in group if d.element and d.element.text and d.element.text.lower() in low]
    if texts:
        return f'The task names "{_clip(texts[0])}".'
    if first.name == "exit":
        return "Everything the task asks for is done."
    if last:
        return "This completes the task."
    return "This is needed before the next step."


def group_actions(actions: list[Described]) -> list[list[Described]]:
    """Consecutive clicks on the same kind of element form one step (a set of checkboxes); any other
    action is a step of its own."""
    groups: list[list[Described]] = []
    for d in actions:
        if groups and d.merge_key is not None and groups[-1][-1].merge_key == d.merge_key \
                and not (d.name == "Click" and d.element is not None and d.element.kind in ("button", "link", "tab", "")):
            groups[-1].append(d)
        else:
            groups.append([d])
    return groups


def annotate(task: str, actions: list[Described]) -> Plan:
    """A grounded plan: one step per group of actions, each listing the actions it covers."""
    groups = group_actions(actions)
    steps = []
    for i, g in enumerate(groups):
        steps.append(PlanStep(step=_phrase(g), reasoning=_reasoning(g, task, i == len(groups) - 1),
                              actions=[d.number for d in g]))
    return Plan(steps)


def describe_trajectory(traj: dict) -> list[Described]:
    """The trajectory's parsed actions (numbered 1..n), each described on the page it acted on."""
    out: list[Described] = []
    for st in traj.get("steps", []):
        if st.get("action") is None:
            continue
        out.append(describe_action(st["action"], st.get("observation") or "", len(out) + 1))
    return out


def remaining_plan(task: str, actions: list[Described], done: int) -> Plan:
    """The plan for what remains after the first `done` actions (renumbered from Step 1)."""
    rest = [Described(d.number - done, d.name, d.argument, d.element, d.target) for d in actions[done:]]
    return annotate(task, rest)


def element_line(call: str, page_html: str) -> str:
    """The executor's `# Element:` line for an action on this page ("" when it names no element)."""
    d = describe_action(call, page_html, 1)
    return f"# Element: {d.target}" if d.element is not None else ""
