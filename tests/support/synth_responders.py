"""Rule-based stand-ins for every model of the synth pipeline, chosen by the prompt they are
shown. Importable by path (`scripted:support.synth_responders:respond`) so that CLI runs and Ray
workers in other processes can use them."""

from __future__ import annotations

import hashlib
import re

from support.miniwob_solvers import SOLVERS
from support.pages import prompt_parts

ITEMS = ["red kettle", "blue lamp", "green tent", "steel pan", "oak desk", "wool scarf", "glass vase", "silk tie",
         "brass bell", "paper fan", "clay pot", "cotton sheet", "leather belt", "rubber duck", "marble tile"]
VERBS = ["Find the price of", "Add to the cart the", "Show the reviews of", "Compare the colours of",
         "List the sellers of", "Check the stock of", "Open the page of", "Count the ratings of"]


def _h(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def _section(user: str, title: str) -> str:
    m = re.search(rf"## {re.escape(title)}\n(.*?)(?=\n## |\Z)", user, re.S)
    return m.group(1).strip() if m else ""


def respond(messages) -> str:
    system, user = messages[0].content, messages[-1].content
    if "practise on" in system:  # query generation
        n = int(re.search(r"Write (\d+) new tasks", user).group(1))
        seeds = re.findall(r"^- (.+)$", _section(user, "Example tasks"), re.M)
        h = _h(user)
        out = [f"- {seeds[0]}"]  # an exact copy of a seed: must be dropped as a duplicate
        for k in range(n - 1):
            out.append(f"- {VERBS[(h + k) % len(VERBS)]} the {ITEMS[(h // 7 + 3 * k) % len(ITEMS)]} "
                       f"{'and email it to me' if k == 2 else 'in the store'}")
        return "\n".join(out) + "\n"
    if "You check tasks" in system:  # feasibility filter
        q = _section(user, "Task to check")
        if "email" in q:
            return "Feasible: no\nReason: sending email needs a mail client outside the site."
        return "Feasible: yes\nReason: the site lists products with these details."
    if "judge whether a web-browsing agent completed" in system:
        done = "exit(" in _section(user, "Actions") or "Click" in _section(user, "Actions")
        return f"Reasoning: the actions reach the goal.\nSuccess: {'yes' if done else 'no'}"
    if "reverse" in system or "tie every step to the actions" in system:
        n = len(re.findall(r"^\d+\. ", _section(user, "Actions that completed the task"), re.M))
        return "".join(f"## Step {i}\nReasoning: Action {i} moves the task on.\nStep: Carry out part {i}.\nActions: {i}\n"
                       for i in range(1, n + 1))
    if "Write {{ n }}" in system or "NEW tasks for the same website, each" in system:  # plan expansion
        n = int(re.search(r"Write (\d+) new pairs", user).group(1))
        h = _h(user)
        return "".join(f"### Query\n{VERBS[(h + k) % len(VERBS)]} the {ITEMS[(h // 5 + k) % len(ITEMS)]} "
                       f"number {h % 97 + k}\n### Seed\n1\n### Plan\n## Step 1\nReasoning: Search first.\n"
                       f"Step: Search for the item.\n## Step 2\nReasoning: Then read.\nStep: Read the answer.\n"
                       for k in range(n))
    if "You grade plans" in system:
        ok = _h(_section(user, "Task")) % 2 == 0
        return f"Reasoning: {'it covers the task' if ok else 'it searches with the wrong words'}.\n" \
               f"Correct: {'yes' if ok else 'no'}"
    if "You analyse where" in system:
        return "- Search Query Optimization: picks poor search words\n- Result Navigation: opens the wrong result\n"
    if "You sort training tasks" in system:
        return "Class: " + ("Search Query Optimization" if _h(user) % 3 else "none")
    if "is weak at" in system:  # targeted augmentation
        h = _h(user)
        return (f"### Query\nSearch well for the {ITEMS[h % len(ITEMS)]} sold under code {h % 10007}\n### Plan\n"
                "## Step 1\nReasoning: Precise words.\nStep: Search for the exact name.\n")
    if "thinking of a web agent" in system:
        return "I read the task and look at the page. The element that matches the goal is visible, so I act on it."
    if "Replanner of a web-browsing agent. Mid-task" in system:
        return "## Step 1\nReasoning: Part of the task is done.\nStep: Finish the remaining part.\n"
    # the agent's own roles
    if "You are the Planner" in system:
        return "## Step 1\nReasoning: The page has what the task needs.\nStep: Do what the task asks.\n"
    if "You are the Executor" in system:
        url = re.search(r"URL: (\S+)", user.split("## Current page", 1)[1]).group(1)
        task, page, whole = prompt_parts(messages)
        history = whole.split("## Previous actions", 1)[1].split("## Current page", 1)[0]
        try:
            task_id = re.search(r"/([a-z0-9-]+)\.html", url).group(1)  # a MiniWoB page; else: answer at once
            return "# Element: chosen by the scripted policy\n" + SOLVERS[task_id](task, page, history)
        except (IndexError, KeyError, AttributeError, StopIteration):  # a query its solver cannot read
            return 'exit(message="I cannot do this task on this page.")'
    raise AssertionError(f"no scripted answer for prompt: {system[:120]!r}")


def slow_respond(messages) -> str:
    """`respond`, a quarter second per call: gives a test time to kill a run mid-stage."""
    import time

    time.sleep(0.25)
    return respond(messages)
