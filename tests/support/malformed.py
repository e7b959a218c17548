"""A corpus of malformed model outputs: what small models, cut-off generations, confused chat
models and hostile pages echoed back really produce, plus systematic damage (truncation, quote and
digit swaps, huge numbers) applied to well-formed answers. Deterministic, so a failure names its case."""

from __future__ import annotations

VALID_ACTIONS = [
    'do(action="Click", element="12")',
    'do(action="Type", argument="blue kettle", element="5")',
    'do(action="Search", argument="USB-C hub", element="3")',
    'do(action="Hover", element="7")',
    'do(action="Select Dropdown Option", argument="Canada", element="9")',
    'do(action="Press Enter")',
    'do(action="Scroll Down")',
    'do(action="Go Backward")',
    'exit(message="The cheapest is $12.99")',
    '# Element: the Login button\n# Note: user is ann\ndo(action="Click", element="10")',
]

WRITTEN = [
    "", " ", "\n\n", "\x00", "\ufeff", "None", "null", "{}", "[]", "do", "do(", "do()", "do)", "exit", "exit(",
    "exit(message=)", 'exit(message="unterminated)', "do(action=)", 'do(action="")', 'do(action="Click",)',
    'do(action="Click", element="")', 'do(action="Click", element=" ")', 'do(action="Click", element="-3")',
    'do(action="Click", element=-3)', 'do(action="Click", element="3.5")', 'do(action="Click", element=3.5)',
    'do(action="Click", element="0x1F")', 'do(action="Click", element="1e3")', 'do(action="Click", element="²")',
    'do(action="Click", element="³")', 'do(action="Click", element="٣")', 'do(action="Click", element="𝟑")',
    'do(action="Click", element="３")', 'do(action="Click", element="12 13")', 'do(action="Click", element="[12]")',
    'do(action="Click", element=True)', 'do(action="Click", element=None)', 'do(action="Click", element=[1])',
    'do(action="Click", element={"id": 1})', 'do(action="Click", element=f"{x}")', 'do(action="Click", element=b"1")',
    'do(action="Click", element="1" "2")', 'do(action=Click, element=12)', "do(action=`Click`, element=`12`)",
    'do(action="Click", element="12", element="13")', 'do(action="Click", **{"element": "12"})',
    'do(*["Click"], element="12")', 'do(action="Click", element="12")()', 'do(action="Click", element="12")[0]',
    'do(action="Click", element=(lambda: 12)())', 'do(action="Click", element=__import__("os"))',
    'do(action="Click", element="12"; import os)', 'do(action="Click"\n, element="12"',
    'do(action="Type", argument=12, element="3")', 'do(action="Type", argument=None, element="3")',
    'do(action="Type", argument="' + "x" * 5000 + '", element="3")',
    'do(action="Type", argument="a\\", element="3")', "do(action='Type', argument='it's', element='3')",
    'do(action="Type", argument="""triple""", element="3")', 'do(action="Select Dropdown Option", element="9")',
    'do(action="Scroll Down", element="3")', 'do(action="Scroll Sideways")', 'do(action="Go Home")',
    'do(action="CLICK", element="12")', 'do(action=" Click", element="12")', 'do(action="Click ", element="12")',
    "do(action=\u201cClick\u201d, element=\u201c12\u201d)", "do(action=\u2018Click\u2019, element=\u201812\u2019)",
    'do(action="Click", element="12"', 'do(action="Click", element="12"))', '((((do(action="Click"',
    "(" * 400 + 'do(action="Click", element="1")' + ")" * 400, "do(" + "(" * 200 + ")" * 200,
    'do(action="Click", element="' + "9" * 5000 + '")', 'do(action="Click", element=' + "9" * 5000 + ")",
    'do(action="Click", element="' + "9" * 20 + '")', 'exit(message="a", message="b")', "exit(1, 2)",
    "exit(message=42)", "exit(message=None)", 'exit(answer="x")', 'exit(message=f"{1}")',
    "do(action=\"Click\", element=\"12\")".replace('"', "\\\""), "<tool_call>click(12)</tool_call>",
    '{"action": "Click", "element": "12"}', "Action: Click [12]", "click [12]", "CLICK(12)", "Click(12)",
    'await page.click("#12")', "I cannot do that.", "As an AI language model, I can't browse.",
    "## Step 1\nReasoning: r\nStep: click", "<think>I should click", "<think></think>",
    "</think>", "<think>do(action=\"Click\", element=\"12\")", "```\n```", "```python\ndo(\n```",
    "do(action=\"Click\", element=\"12\"\n# Note: unfinished", "# Note:\n", "# Element:", "# Note: " + "n" * 3000,
    "\u202edo(action=\"Click\", element=\"12\")", "d\u200bo(action=\"Click\", element=\"12\")",
    "ｄｏ(action=\"Click\", element=\"12\")", 'do(акция="Click", element="12")', 'do(action="Сlick", element="12")',
    "do " * 2000, "\\x00do(action=\"Click\")", "do(action='Click', element='12'",
    'do(action="Click", element="12", argument="x")', 'do(action="Hover", argument="x", element="1")',
    'do(action="Press Enter", argument="x")', 'do(action="Type", argument="x", element="1", extra="y")',
    'do(action="Type", argument="x"element="1")', 'do(action="Type" argument="x" element="1")',
    'do(action="Type", argument="x", element="1"]', 'do[action="Click", element="1"]',
    'do{action="Click", element="1"}', 'exit message="done"', 'exit: done', "exit()", "exit(message=)",
    'do(action="Click", element="12") do(action="Tap", element="1"', 'do(action="Click", element="١٢")',
    "\ufffd\ufffd", "\x1b[31mdo(action=\"Click\")\x1b[0m", "do(action=\"Click\", element=\"1\\",
]


def _damage(text: str) -> list[str]:
    n = len(text)
    out = [text[: n // 2], text[: n - 1], text[: n - 2], text[1:], text.replace('"', ""),
           text.replace('"', "'", 1), text.replace("(", "[", 1), text.replace(")", "", 1),
           text.replace(",", "", 1), text.replace("=", ":", 1), text.replace("do(", "do (", 1).replace("action", "act", 1),
           text.replace('element="', 'element="x', 1), text.replace('element="', 'element="-', 1),
           text.replace('element="1', 'element="¹', 1), text.replace("Click", "click"),
           text.replace("(", "((", 1), text.upper(), text + ")" * 3, '"' + text, text.replace('action="', 'action="Do ', 1)]
    return [t for t in out if t != text]


def malformed_executor_outputs() -> list[str]:
    """At least 200 outputs an executor might produce that are not a clean action."""
    corpus = list(WRITTEN)
    for valid in VALID_ACTIONS:
        corpus.extend(_damage(valid))
    return list(dict.fromkeys(corpus))


PLANS_WRITTEN = [
    "", " ", "\x00", "Step", "## Step", "## Step 1", "## Step 1\n", "## Step 1\nReasoning: r", "## Step x\nStep: a",
    "## Step ١\nStep: a", "## Step 99999999999999999999\nStep: a", "## Step -1\nStep: a", "Step: a",
    "## Step 1\nReasoning:\nStep:", "## Step 1\nStep: " + "a" * 20000, "1)", "1.", "1.\n2.", "- a\n- b",
    "I can't plan this.", "<think>planning", "<think>## Step 1\nStep: a", "</think>", "```\n```",
    "## Step 1\nReasoning: r\nStep: a\nActions: -1", "## Step 1\nReasoning: r\nStep: a\nActions: ٣",
    "## Step 1\nReasoning: r\nStep: a\nActions: " + "1" * 5000, "## Step 1\nReasoning: r\nStep: a\nActions: one, two",
    "## Step 1\nReasoning: r\nStep: a\nActions: 1-99999", "## Step 1\nStep: a\nActions: 3-1",
    "## Step 1\nStep: a\nActions: ²", "## Step 𝟏\nStep: a", "**Step 1** **Step 2**", "Step 1: \nStep 2: ",
    "## Step 1\r\nReasoning: r\r\nStep: a\r\n", "#" * 5000, "## Step 1\n" * 500, "Step 1" * 1000,
    '{"plan": ["a", "b"]}', "<plan><step>a</step></plan>", "\u202e## Step 1\nStep: a", "＃＃ Step 1\nStep: a",
    "## Ѕtep 1\nStep: a", "## Step 1\nReasoning: r\nStep: a\n## Step 1\nStep: a", "## Step 2\nStep: b\n## Step 1\nStep: a",
    "## Step 1\nStep: do(action=\"Click\", element=\"1\")", "1. \n2. ", "##Step1\nStep:a", "## Step 1\n\n\n\nStep:   \n",
    "\ufffd" * 10, "Reasoning: only reasoning", "Actions: 1, 2",
]


def malformed_planner_outputs() -> list[str]:
    """At least 50 outputs a planner might produce that are not a clean plan."""
    return list(dict.fromkeys(PLANS_WRITTEN))
