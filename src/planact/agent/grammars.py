"""GBNF grammars that keep a small local model's output well-formed (llama.cpp honours them;
OpenAI-compatible servers can with ?grammar_field=guided_grammar)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence

from ..web.actions import ACTION_SPACE

_TEXT = r'[^"\\\n]{0,80}'
_LINE = r"[^\n]{1,160}"
_TYPED = ("Type", "Search")  # actions whose argument is text the agent writes (not an option on the page)
_MAX_WORDS = 24


def task_words(task: str) -> list[str]:
    """The words a typed value may be made of when it must come from the task: the task's
    whitespace-separated tokens without quotes, each also without trailing punctuation."""
    words: set[str] = set()
    for token in task.replace('"', " ").replace("\u201c", " ").replace("\u201d", " ").split():
        if "\\" in token:
            continue
        words.add(token)
        bare = token.rstrip(".,;:!?)").lstrip("(")
        if bare:
            words.add(bare)
    return sorted(words)


def _lit(s: str) -> str:
    return json.dumps(s)


def _think(cot: bool) -> str:
    # The "<think>" itself comes from the prefill; the grammar starts inside the reasoning.
    return r'think ::= [^<]{1,600} "</think>\n"' if cot else ""


# the executor's "# Element:" line on its own (the first of its two calls when it grounds its ids)
ELEMENT_LINE_GRAMMAR = 'root ::= "# Element: " [^\\n]{1,80} "\\n"\n'


def action_grammar(element_ids: list[int], cot: bool = False, notes: bool = True, exit_: bool = True,
                   avoid: Collection[tuple[str, int | None]] = (), words: Collection[str] = (),
                   targets: Mapping[str, Sequence[int]] | None = None) -> str:
    """Any action of the action space, with element ids restricted to those on the page; without
    `# Note:` lines or without `exit(...)` when asked (exploration on suites that take no answer).
    `avoid`: (action name, element id or None) pairs the answer may not use, e.g. actions that left
    this very page unchanged; an action whose every target is avoided is left out. `words`: when
    given, what Type and Search write is made of these words only, separated by single spaces
    (values copied from the task: a small model copies "41nu" as "4" when nothing holds it to the
    whole word). `targets`: action name -> the ids that action may use instead of `element_ids` (typing
    only into fields)."""
    ids = sorted(set(element_ids)) or [0]
    targets = targets or {}
    banned = set(avoid)
    rules = [f"root ::= {'think ' if cot else ''}elem? {'note? ' if notes else ''}call"]
    rules.append(r'elem ::= "# Element: " [^\n]{1,80} "\n"')
    rules.append(r'note ::= "# Note: " [^\n]{1,120} "\n"')
    alts = []
    for i, (name, args) in enumerate(ACTION_SPACE.items()):
        parts = [f'"do(action=" {_lit(_lit(name))}']
        if "argument" in args:
            parts.append('", argument=\\"" ' + ("typed" if words and name in _TYPED else "text") + ' "\\""')
        if "element" in args:
            allowed = [e for e in sorted(set(targets.get(name, ids))) if (name, e) not in banned]
            if not allowed:
                continue
            rule = "id" if allowed == ids else f"id{i}"  # the same ids, not merely as many
            if rule != "id":
                rules.append(f"{rule} ::= " + " | ".join(_lit(str(e)) for e in allowed))
            parts.append(f'", element=\\"" {rule} "\\""')
        elif (name, None) in banned:
            continue
        parts.append('")"')
        rules.append(f"a{i} ::= " + " ".join(parts))
        alts.append(f"a{i}")
    if not alts and not exit_:  # everything avoided: the plain grammar (the loop check catches a repeat)
        return action_grammar(element_ids, cot, notes, exit_, words=words, targets=targets)
    if exit_:
        rules.append('exit ::= "exit(message=\\"" text "\\")"')
    rules.append("id ::= " + " | ".join(_lit(str(i)) for i in ids))
    rules.append("call ::= " + " | ".join([*alts, *(["exit"] if exit_ else [])]))
    rules.append(f"text ::= {_TEXT}")
    if words:
        rules.append(f'typed ::= word (" " word){{0,{_MAX_WORDS - 1}}}')
        rules.append("word ::= " + " | ".join(_lit(w) for w in sorted(set(words))))
    if cot:
        rules.append(_think(cot))
    return "\n".join(rules) + "\n"


def plan_grammar(max_steps: int = 6, cot: bool = False) -> str:
    """`## Step N / Reasoning: / Step:` blocks, numbered 1..k for k <= max_steps."""
    rules = [f"root ::= {'think ' if cot else ''}s1"]
    for n in range(1, max_steps + 1):
        # the plan may end right after a step's text, as plan texts (and training targets) do
        tail = f' ("\\n" s{n + 1} | "\\n")?' if n < max_steps else ' "\\n"?'
        rules.append(f's{n} ::= "## Step {n}\\nReasoning: " line "\\nStep: " line{tail}')
    rules.append(f"line ::= {_LINE}")
    if cot:
        rules.append(_think(cot))
    return "\n".join(rules) + "\n"


def grounded_plan_grammar(n_actions: int, cot: bool = False) -> str:
    """A plan whose steps carry `Actions: i, j, ...` lines that cover actions 1..n in order, each
    exactly once, in consecutive runs: only valid groundings can be generated. Rule `c<k>` means
    actions 1..k are covered; step numbers are left to the parser."""
    n = max(1, n_actions)
    rules = [f"root ::= {'think ' if cot else ''}c0",
             'blk ::= "## Step " [1-9] [0-9]? "\\nReasoning: " line "\\nStep: " line "\\nActions: "']
    for k in range(n):
        alts = []
        for end in range(k + 1, n + 1):
            ids = ", ".join(str(i) for i in range(k + 1, end + 1))
            alts.append(f'blk "{ids}\\n"' + (f" c{end}" if end < n else ""))
        rules.append(f"c{k} ::= " + " | ".join(alts))
    rules.append(f"line ::= {_LINE}")
    if cot:
        rules.append(_think(cot))
    return "\n".join(rules) + "\n"
