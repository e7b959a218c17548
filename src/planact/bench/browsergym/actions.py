"""planact's actions (the WebRL / WebArena-Lite format) as BrowserGym's high-level actions, with
planact's element ids turned into BrowserGym's bids."""

from __future__ import annotations

import json

from ...web.actions import Action

SCROLL_PX = 500


class Untranslatable(ValueError):
    """An action that BrowserGym cannot carry out as asked (an element without a bid)."""


def to_browsergym(action: Action, bids: dict[int, str]) -> str:
    """The BrowserGym action string for `action`; `bids` maps planact's ids to BrowserGym's bids."""
    def bid() -> str:
        if action.element is None:
            raise Untranslatable(f"{action.name} needs an element id")
        if action.element not in bids:
            raise Untranslatable(f"element {action.element} has no BrowserGym id (bid); pick another element")
        return json.dumps(bids[action.element])

    q = json.dumps  # a Python string literal BrowserGym's action parser reads
    name, arg = action.name, action.argument or ""
    if name == "exit":
        return f"send_msg_to_user({q(action.message or '')})"
    if name == "Click":
        return f"click({bid()})"
    if name == "Right Click":
        return f'click({bid()}, button="right")'
    if name == "Hover":
        return f"hover({bid()})"
    if name == "Type":
        return f"fill({bid()}, {q(arg)})"
    if name == "Search":
        target = bid()
        return f'fill({target}, {q(arg)})\npress({target}, "Enter")'
    if name == "Select Dropdown Option":
        return f"select_option({bid()}, {q(arg)})"
    if name == "Press Enter":
        return 'keyboard_press("Enter")'
    if name in ("Scroll Up", "Scroll Down"):
        dy = SCROLL_PX if name == "Scroll Down" else -SCROLL_PX
        # over an element (a frame, a list): the pointer goes there first, and the wheel turns where it is
        return f"hover({bid()})\nscroll(0, {dy})" if action.element is not None else f"scroll(0, {dy})"
    if name == "Go Backward":
        return "go_back()"
    if name == "Go Forward":
        return "go_forward()"
    if name == "Goto":
        return f"goto({q(arg)})"
    if name == "Switch Tab":
        return f"tab_focus({int(arg)})"
    if name == "Close Tab":
        return "tab_close()"
    if name == "Wait":
        return f"noop({int(1000 * float(arg or 2))})"
    raise Untranslatable(f"{name} has no BrowserGym equivalent")
