"""The WebRL / WebArena-Lite action format: parse what a model wrote into an Action.

    # Element: the 'Sign in' button          (optional description)
    # Note: the order total is $42.10        (optional memory kept in later prompts)
    do(action="Click", element="12")
    exit(message="The answer is 42")

Accepted variations: single or double quotes, extra spaces, code fences, text around the call,
an unquoted integer element id. Anything else is a ParseError whose message goes back to the model.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

# action name -> the keyword arguments it takes (element is always the target's id)
ACTION_SPACE: dict[str, tuple[str, ...]] = {
    "Click": ("element",),
    "Type": ("argument", "element"),
    "Search": ("argument", "element"),
    "Hover": ("element",),
    "Select Dropdown Option": ("argument", "element"),
    "Press Enter": (),
    "Scroll Up": (),
    "Scroll Down": (),
    "Go Backward": (),
    "Go Forward": (),
}
# The rest of the WebRL / WebArena-Lite action set: parsed and carried out, but not offered in the
# prompts or the grammar (what planact's models are trained to write is ACTION_SPACE).
MORE_ACTIONS: dict[str, tuple[str, ...]] = {
    "Right Click": ("element",),
    "Wait": (),
    "Switch Tab": ("argument",),
    "Close Tab": (),
    "Goto": ("argument",),
}
# Wait: seconds, at most MAX_WAIT_S. Scroll: an element to scroll within (a frame, a scrolling list); the
# page when there is none, as in WebRL
# Close Tab: the tab's number in the observation's tab line; the current tab when there is none
OPTIONAL_ARGS: dict[str, tuple[str, ...]] = {"Wait": ("argument",), "Scroll Up": ("element",),
                                             "Scroll Down": ("element",), "Close Tab": ("argument",)}
# any spelling, matched without case, spaces or underscores: "click", "select_dropdown_option", "goto"
_CANONICAL = {re.sub(r"[\s_]+", "", n.lower()): n for n in (*ACTION_SPACE, *MORE_ACTIONS)}
_CANONICAL.update({"gourl": "Goto", "goback": "Go Backward", "goforward": "Go Forward", "rightclick": "Right Click",
                   "switchtotab": "Switch Tab", "tabfocus": "Switch Tab", "tabclose": "Close Tab"})

_CALL_START = re.compile(r"(?<![\w.])(do|exit|go_backward|go_forward)\s*\(")
_ID = re.compile(r"[0-9]{1,9}")  # ASCII digits only: "²", "٣" or a 5,000-digit id is not an element id
MAX_CALL_CHARS = 4000  # a longer call is refused before Python's parser sees it
_NOTE = re.compile(r"^\s*#\s*Note\s*:\s*(.*\S)\s*$", re.MULTILINE)
_ELEMENT_DESC = re.compile(r"^\s*#\s*Element\s*:\s*(.*\S)\s*$", re.MULTILINE)


class ParseError(ValueError):
    """The model's output holds no valid action; the message says what to fix."""


@dataclass(frozen=True)
class Action:
    name: str  # one of ACTION_SPACE, or "exit"
    element: int | None = None
    argument: str | None = None
    message: str | None = None  # exit's answer
    note: str | None = None
    element_description: str | None = None
    raw: str = field(default="", compare=False)

    @property
    def is_exit(self) -> bool:
        return self.name == "exit"

    def call(self) -> str:
        """The canonical one-line form, as it appears in histories and training data."""
        if self.is_exit:
            return f"exit(message={_quote(self.message or '')})"
        args = [f"action={_quote(self.name)}"]
        if self.argument is not None:
            args.append(f"argument={_quote(self.argument)}")
        if self.element is not None:
            args.append(f'element="{self.element}"')
        return f"do({', '.join(args)})"

    def to_text(self) -> str:
        lines = []
        if self.element_description:
            lines.append(f"# Element: {self.element_description}")
        if self.note:
            lines.append(f"# Note: {self.note}")
        lines.append(self.call())
        return "\n".join(lines)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _call_end(text: str, open_paren: int) -> int | None:
    """Index just past the parenthesis closing the one at `open_paren`, skipping string literals."""
    depth, i, quote = 0, open_paren, None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _strip_fences(text: str) -> str:
    return re.sub(r"```[a-zA-Z]*", "", text)


def parse_action(output: str) -> Action:
    """Parse the last well-formed `do(...)` or `exit(...)` call in a model's output."""
    text = _strip_fences(output)
    candidates: list[tuple[str, str]] = []
    for m in _CALL_START.finditer(text):
        end = _call_end(text, m.end() - 1)
        if end is not None:
            candidates.append((m.group(1), text[m.start():end]))
    if not candidates:
        raise ParseError(
            'no action found: answer with exactly one call such as do(action="Click", element="12") '
            'or exit(message="...")'
        )
    errors: list[str] = []
    for kind, call in reversed(candidates):
        try:
            action = _parse_call(kind, call)
        except ParseError as err:
            errors.append(str(err))
            continue
        notes = _NOTE.findall(text)
        descs = _ELEMENT_DESC.findall(text)
        return Action(
            name=action.name, element=action.element, argument=action.argument, message=action.message,
            note=notes[-1] if notes else None, element_description=descs[-1] if descs else None, raw=output,
        )
    raise ParseError(errors[0])


def _parse_call(kind: str, call: str) -> Action:
    if len(call) > MAX_CALL_CHARS:
        raise ParseError(f"the call is {len(call)} characters long; keep it under {MAX_CALL_CHARS}")
    try:
        node = ast.parse(call.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ParseError(f"malformed call {call[:200]!r}: check the quotes and commas") from None
    if not isinstance(node, ast.Call) or node.args and kind == "do":
        raise ParseError(f"{call!r}: use keyword arguments, e.g. do(action=\"Click\", element=\"12\")")
    kwargs: dict[str, object] = {}
    for kw in node.keywords:
        if kw.arg is None or not isinstance(kw.value, ast.Constant):
            raise ParseError(f"{call!r}: every argument must be a plain string, e.g. element=\"12\"")
        kwargs[kw.arg] = kw.value.value
    if kind in ("go_backward", "go_forward"):  # WebRL's bare go_backward()
        if node.args or node.keywords:
            raise ParseError(f"{call!r}: {kind}() takes nothing")
        return Action(name="Go Backward" if kind == "go_backward" else "Go Forward")
    if kind == "exit":
        if node.args:
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant):
                raise ParseError(f"{call!r}: write exit(message=\"...\")")
            kwargs.setdefault("message", node.args[0].value)
        if set(kwargs) - {"message"}:
            raise ParseError(f"{call!r}: exit takes only message=")
        return Action(name="exit", message=str(kwargs.get("message", "")))
    name = kwargs.pop("action", None)
    if not isinstance(name, str):
        raise ParseError(f"{call!r}: missing action=\"...\"")
    name = _CANONICAL.get(re.sub(r"[\s_]+", "", name.lower()), name)
    if name not in ACTION_SPACE and name not in MORE_ACTIONS:
        raise ParseError(f"unknown action {name!r}; valid actions: {', '.join(ACTION_SPACE)}")
    wanted = ACTION_SPACE[name] if name in ACTION_SPACE else MORE_ACTIONS[name]
    extra = set(kwargs) - set(wanted) - set(OPTIONAL_ARGS.get(name, ()))
    if extra:
        raise ParseError(f"{name} does not take {', '.join(sorted(extra))}; it takes {', '.join(wanted) or 'nothing'}")
    missing = [a for a in wanted if a not in kwargs]
    if missing:
        raise ParseError(f"{name} needs {' and '.join(missing)}")
    element = None
    if "element" in kwargs:
        raw = kwargs["element"]
        text = str(raw).strip() if isinstance(raw, (int, str)) and not isinstance(raw, bool) else None
        if text is None or not _ID.fullmatch(text):
            shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:40] + "..."
            raise ParseError(f"element must be the numeric id (ASCII digits) of an element on the page, not {shown}")
        element = int(text)
    argument = kwargs.get("argument")
    if "argument" in kwargs:
        if argument is None or isinstance(argument, (bytes, bool)):
            raise ParseError(f"{name}'s argument must be a text in quotes, e.g. argument=\"blue kettle\"")
        argument = str(argument)
    return Action(name=name, element=element, argument=argument)
