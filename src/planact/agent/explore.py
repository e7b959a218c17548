"""Exploration over the action space, for rollouts that collect training data (epsilon-greedy).

A policy that has only ever been rewarded for clicks samples clicks, even at a high temperature,
and types what it has seen typed (nothing, or its own element descriptions): it never finds out
that a form wants the task's words in its fields. With probability `rate` per step the model is
not asked; a random action the page affords is taken instead: an action type drawn uniformly
from those the page offers (Click; Type into a text field; Select Dropdown Option on a <select>),
then its target and argument uniformly: a clickable element; a text field and a phrase of the
task (its quoted strings when it has some, else its runs of up to three words); a list and one of
its options. Novelty first: targets and texts the episode has not used yet are preferred (a form's
second field gets the task's other string). Nothing here knows a task: it reads the page's tags and
the task's words.
"""

from __future__ import annotations

import random
import re

from ..web.actions import Action
from ..web.observation import Observation
from .grounding import takes_text

_QUOTED = re.compile(r'"([^"\n]{1,80})"')


def text_fields(obs: Observation) -> list[int]:
    return sorted(i for i in obs.elements if takes_text(obs, i))


def clickables(obs: Observation) -> list[int]:
    """The elements a person could click (the page's interactive ones; all of them if none is)."""
    ids = sorted(i for i, el in obs.elements.items() if el.interactive and el.tag not in ("option", "select"))
    return ids or sorted(obs.elements)


def selects(obs: Observation) -> dict[int, list[str]]:
    """Each <select> on the page that has options, with their texts."""
    out: dict[int, list[str]] = {i: [] for i, el in obs.elements.items() if el.tag == "select"}
    for el in obs.elements.values():
        if el.tag == "option" and el.parent in out and el.text.strip():
            out[el.parent].append(el.text.strip())
    return {i: opts for i, opts in out.items() if opts}


def phrases(task: str, max_words: int = 3) -> list[str]:
    """What exploration types: the task's quoted strings when it has some, else its runs of up to
    `max_words` words (punctuation at their ends stripped)."""
    quoted = sorted({q.strip() for q in _QUOTED.findall(task) if q.strip()})
    if quoted:
        return quoted
    words = [w.strip(".,;:!?()'\"") for w in task.split()]
    words = [w for w in words if w]
    out = {" ".join(words[i:i + n]) for n in range(1, max_words + 1) for i in range(len(words) - n + 1)}
    return sorted(out)


def _fresh(items: list, used: set) -> list:
    """The items not used yet, or all of them when every one has been."""
    return [x for x in items if x not in used] or items


def draw(obs: Observation, task: str, rate: float, rng: random.Random,
         done: list[Action] | None = None) -> Action | None:
    """None (the policy acts) with probability 1 - rate, else a random afforded action; `done`,
    the episode's actions so far, steers it to targets and texts not used yet."""
    if rate <= 0 or rng.random() >= rate:
        return None
    done = done or []
    clicked = {a.element for a in done if a.name == "Click"}
    typed_in = {a.element for a in done if a.name == "Type"}
    typed = {a.argument for a in done if a.name == "Type"}
    kinds = []
    if obs.elements:
        kinds.append("Click")
    fields, lists, texts = text_fields(obs), selects(obs), phrases(task)
    if fields and texts:
        kinds.append("Type")
    if lists:
        kinds.append("Select Dropdown Option")
    if not kinds:
        return None
    kind = rng.choice(kinds)
    if kind == "Click":
        return Action("Click", element=rng.choice(_fresh(clickables(obs), clicked)))
    if kind == "Type":
        return Action("Type", element=rng.choice(_fresh(fields, typed_in)), argument=rng.choice(_fresh(texts, typed)))
    target = rng.choice(sorted(lists))
    return Action("Select Dropdown Option", element=target, argument=rng.choice(lists[target]))
