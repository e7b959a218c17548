"""A scripted executor for the WebArena-format fixture tasks: it reads the task and the page the
executor prompt shows, and answers in the WebRL action format, like a model would."""

from __future__ import annotations

from .pages import click, prompt_parts

PLAN = "## Step 1\nReasoning: Find what the task asks on the site.\nStep: Open the right page and answer."


def planner(messages) -> str:
    return PLAN


def _link(page, text: str):
    return next(e for e in page.elements if e.own_text == text or e.text == text)


def executor(messages) -> str:
    task, page, user = prompt_parts(messages)
    history = user.split("## Previous actions", 1)[1].split("## Current page", 1)[0]
    url = user.split("## Current page\nURL: ", 1)[1].split("\n", 1)[0]
    done = history.count("do(")

    def act(line: str) -> str:
        return f"# Element: chosen by the scripted policy\n{line}"

    if task.startswith("What is the number of my most recent order"):
        if "/sales/order/history/" not in url:
            return act(click(_link(page, "My Orders")))
        first = next(e for e in page.elements if e.own_text.startswith("0000001"))
        return act(f'exit(message="Your latest order is {first.own_text}")')
    if task.startswith("Open the page of my most recent order"):
        if "/order/view/" not in url:
            return act(click(_link(page, "View Order 000000189")))
        return act('exit(message="Done")')
    if task.startswith("Subscribe me"):
        if "/newsletter/manage/" in url:
            box = next(e for e in page.elements if e.tag == "input")
            if "checked" not in box.attrs:
                return act(click(box))
            return act(click(_link(page, "Save")))
        if "saved=1" in url:
            return act('exit(message="Subscribed")')
        return act(click(_link(page, "Newsletter Subscriptions")))
    if task.startswith("What role does vinta have"):
        if done == 0:
            return act(click(_link(page, "Members")))
        return act('exit(message="vinta is a Guest")')
    if task.startswith("Open the members page"):
        if "project_members" not in url:
            return act(click(_link(page, "Members")))
        return act('exit(message="Done")')
    if task.startswith("What is the title of the pinned post"):
        return act('exit(message="There is no pinned post in the books forum")')
    if task.startswith("Open the post this comment belongs to"):
        return act('exit(message="Done")')
    if task.startswith("How many orders are pending"):
        return act('exit(message="2")')  # wrong on purpose: one is
    raise AssertionError(f"no policy for task {task!r}")
