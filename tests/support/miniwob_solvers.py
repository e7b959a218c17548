"""Scripted MiniWoB policies: they read the page the executor prompt shows and write actions in the
WebRL format, so that an episode exercises the real parser, executor and browser. A policy sees
what a model would see (task, page, previous actions) and nothing else."""

from __future__ import annotations

import re
from datetime import date

from .pages import El, Page, click, prompt_parts, type_

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def quoted(task: str) -> list[str]:
    return re.findall(r'"(.*?)"', task)


def click_button(task: str, page: Page, history: str) -> str:
    return click(page.first("button", quoted(task)[0]))


def click_link(task: str, page: Page, history: str) -> str:
    target = quoted(task)[0]
    return click(next(e for e in page.elements if e.own_text == target and e.id > 1))


def enter_text(task: str, page: Page, history: str) -> str:
    text = quoted(task)[0]
    field = page.first("input")
    if field.get("value") != text:
        return type_(field, text)
    return click(page.first("button", "Submit"))


def login_user(task: str, page: Page, history: str) -> str:
    user, password = quoted(task)[:2]
    username_field, password_field = page.all("input")[:2]
    if username_field.get("value") != user:
        return type_(username_field, user)
    if f'element="{password_field.id}"' not in history:  # a password's value is never shown
        return type_(password_field, password)
    return click(page.first("button", "Login"))


def focus_text(task: str, page: Page, history: str) -> str:
    return click(page.first("input"))


def click_checkboxes(task: str, page: Page, history: str) -> str:
    m = re.match(r"Select (.*) and click Submit", task)
    wanted = [] if not m or m.group(1) == "nothing" else [w.strip() for w in re.split(r",\s*", m.group(1))]
    for label in page.all("label"):
        box = label.children[0]
        if (label.own_text in wanted) != ("checked" in box.attrs):
            return click(box)
    return click(page.first("button", "Submit"))


def choose_list(task: str, page: Page, history: str) -> str:
    option = re.match(r"Select (.*) from the list", task).group(1)
    select = page.first("select")
    if select.get("value") != option:
        return f'do(action="Select Dropdown Option", argument="{option}", element="{select.id}")'
    return click(page.first("button", "Submit"))


def click_dialog(task: str, page: Page, history: str) -> str:
    return click(page.first("button", title="Close"))


def click_tab_2_hard(task: str, page: Page, history: str) -> str:
    target = quoted(task)[0]
    panel = page.first(role="tabpanel")
    hits = [e for e in page.elements if e.own_text == target and _inside(e, panel)]
    if hits:
        return click(hits[0])
    tabs = page.all("li", role="tab")
    current = next(i for i, t in enumerate(tabs) if t.get("aria-selected") == "true")
    return click(tabs[current + 1].children[0])


def _inside(el: El, ancestor: El) -> bool:
    while el.parent is not None:
        if el.parent is ancestor:
            return True
        el = el.parent
    return False


ORDINALS = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8, "9th": 9}


def search_engine(task: str, page: Page, history: str) -> str:
    term = quoted(task)[0]
    n = ORDINALS[re.search(r"click the (\w+) search result", task).group(1)]
    box = page.first("input")
    if box.get("value") != term:
        return type_(box, term)
    pager = page.all("ul")
    if not pager:
        return click(page.first("button", "Search"))
    page_no = (n - 1) // 3 + 1
    if page_no > 1 and 'Click' not in history.split("Search")[-1]:
        return click(next(a for a in page.all("a") if a.own_text == str(page_no) and _inside(a, pager[0])))
    results = [a for a in page.all("a") if not _inside(a, pager[0])]
    return click(results[(n - 1) % 3])


def social_media(task: str, page: Page, history: str) -> str:
    handle = re.search(r"(@\w+)", task).group(1)
    action = quoted(task)[0].lower()
    user = next(e for e in page.all("span", handle) if e.parent is None or e.parent.id != 1)  # not the task text
    if action in ("reply", "retweet", "like"):
        return click(page.after(user, **{"class": action}))
    menu = [li for li in page.all("li") if li.text.lower().startswith(action) and li.id > user.id]
    if menu:  # the "more" menu is open
        return click(menu[0])
    return click(page.after(user, **{"class": "more"}))


def email_inbox(task: str, page: Page, history: str) -> str:
    sender = re.search(r"email by (\w+)", task).group(1)
    if "star" in task or "trash" in task:
        row = page.first("div", sender).parent
        icon = "star" if "star" in task else "trash"
        return click(next(c for c in row.children if c.get("class") == icon))
    text_field = page.all("textarea")
    if text_field:  # the reply or forward form is open
        if "forward" in task:
            to = page.first("input")
            if not to.get("value"):
                return type_(to, re.search(r"forward that email to (\w+)", task).group(1))
        else:
            body = text_field[0]
            if body.get("value") != quoted(task)[0]:
                return type_(body, quoted(task)[0])
        return click(next(e for e in page.elements if e.get("dom-id").startswith("send-")))
    opened = page.all(None, "Reply") or page.all(**{"class": "email-reply"})
    if opened:
        target = "Forward" if "forward" in task else "Reply"
        return click(page.first(None, target))
    return click(page.first("div", sender))


def book_flight(task: str, page: Page, history: str) -> str:
    m = re.search(r"Book the (\w+) one-way flight from: (.*) to: (.*) on (\d+)/(\d+)/(\d+)\.", task)
    kind, origin, dest = m.group(1), m.group(2), m.group(3)
    when = date(int(m.group(6)), int(m.group(4)), int(m.group(5)))
    books = [b for b in page.all("button") if b.own_text.startswith("Book flight for")]
    if books:
        return click(_pick_flight(page, books, kind))
    from_field, to_field, date_field = page.all("input")[:3]
    suggestions = [e for e in page.elements if e.tag == "div" and e.parent is not None and e.parent.tag == "li"]
    for field, place in ((from_field, origin), (to_field, dest)):
        if "(" not in field.get("value"):
            if suggestions and field.get("value"):
                exact = [e for e in suggestions if f"({place})" in e.own_text or e.own_text.startswith(place)]
                return click((exact or suggestions)[0])
            return type_(field, place)
    if not date_field.get("value"):
        headers = page.all(None, title="Prev")
        if not headers:
            return click(date_field)
        month = MONTHS.index(next(e.own_text for e in page.elements if e.own_text in MONTHS)) + 1
        year = int(next(e.own_text for e in page.elements if re.fullmatch(r"20\d\d", e.own_text)))
        if (year, month) < (when.year, when.month):
            return click(page.first(None, title="Next"))
        if (year, month) > (when.year, when.month):
            return click(page.first(None, title="Prev"))
        return click(next(a for a in page.all("a") if a.own_text == str(when.day)))
    return click(page.first("button", "Search"))


def _pick_flight(page: Page, books: list[El], kind: str) -> El:
    def value(book: El) -> float:
        if kind == "cheapest":
            return float(book.own_text.split("$")[-1].replace(",", ""))
        duration = [e.own_text for e in page.elements if e.id < book.id and re.fullmatch(r"\d+h \d+m", e.own_text)][-1]
        h, m = re.fullmatch(r"(\d+)h (\d+)m", duration).groups()
        return int(h) * 60 + int(m)

    return min(books, key=value)


SOLVERS = {
    "click-button": click_button,
    "click-link": click_link,
    "enter-text": enter_text,
    "login-user": login_user,
    "focus-text": focus_text,
    "click-checkboxes": click_checkboxes,
    "choose-list": choose_list,
    "click-dialog": click_dialog,
    "click-tab-2-hard": click_tab_2_hard,
    "search-engine": search_engine,
    "social-media": social_media,
    "email-inbox": email_inbox,
    "book-flight": book_flight,
}


def responder(task_id: str):
    """A ScriptedLLM responder for the executor role."""
    solve = SOLVERS[task_id]

    def respond(messages) -> str:
        task, page, user = prompt_parts(messages)
        history = user.split("## Previous actions", 1)[1].split("## Current page", 1)[0]
        return f"# Element: chosen by the scripted policy\n{solve(task, page, history)}"

    return respond


def click_button_executor(messages) -> str:
    """click-button's scripted executor as a `scripted:` model spec (for runs in another process)."""
    return responder("click-button")(messages)
