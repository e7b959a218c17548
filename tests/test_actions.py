"""The action parser on outputs models really write, well-formed and malformed."""

from __future__ import annotations

import pytest

from planact.web.actions import Action, ParseError, parse_action

GOOD = [
    ('do(action="Click", element="12")', Action("Click", element=12)),
    ("do(action='Click', element='12')", Action("Click", element=12)),
    ('do( action = "Click" , element = "12" )', Action("Click", element=12)),
    ('do(action="Click", element=12)', Action("Click", element=12)),
    ('do(element="7", action="Hover")', Action("Hover", element=7)),
    ('```python\ndo(action="Type", argument="blue kettle", element="5")\n```',
     Action("Type", element=5, argument="blue kettle")),
    ('I will search now.\ndo(action="Search", argument="USB-C hub", element="3") because it is the box.',
     Action("Search", element=3, argument="USB-C hub")),
    ('do(action="Type", argument="He said \\"hi\\", then (left)", element="4")',
     Action("Type", element=4, argument='He said "hi", then (left)')),
    ('do(action="Select Dropdown Option", argument="Canada", element="9")',
     Action("Select Dropdown Option", element=9, argument="Canada")),
    ('do(action="Press Enter")', Action("Press Enter")),
    ('do(action="Scroll Down")', Action("Scroll Down")),
    ('do(action="Go Backward")', Action("Go Backward")),
    ('exit(message="The cheapest is $12.99")', Action("exit", message="The cheapest is $12.99")),
    ("exit(message='done')", Action("exit", message="done")),
    ('exit("42")', Action("exit", message="42")),
    ('exit(message="")', Action("exit", message="")),
]


@pytest.mark.parametrize("text,expected", GOOD)
def test_parses_real_variations(text, expected):
    assert parse_action(text) == expected


def test_note_and_element_lines_are_kept():
    a = parse_action('# Element: the Login button\n# Note: the user is keneth\ndo(action="Click", element="10")')
    assert a.note == "the user is keneth" and a.element_description == "the Login button" and a.element == 10
    assert a.to_text().splitlines()[-1] == 'do(action="Click", element="10")'


def test_last_valid_call_wins_over_an_echoed_example():
    text = 'Example: do(action="Click", element="<id>")\nMy answer:\ndo(action="Click", element="4")'
    assert parse_action(text) == Action("Click", element=4)


def test_canonical_form_round_trips():
    a = Action("Type", element=3, argument='say "hi"\nnow')
    assert parse_action(a.call()) == a


BAD = [
    ("", "no action found"),
    ("I think we should click the login button.", "no action found"),
    ('click(element="12")', "no action found"),
    ('do(action="Tap", element="12")', "unknown action"),
    ('do(action="click", element="12")', "unknown action"),
    ('do(action="Click")', "needs element"),
    ('do(action="Type", element="3")', "needs argument"),
    ('do(action="Click", element="the blue button")', "numeric id"),
    ('do(action="Scroll Down", element="3")', "does not take element"),
    ('do(action="Click", element="12"', "no action found"),
    ('do(action="Click" element="12")', "malformed"),
    ('do("Click", "12")', "keyword arguments"),
    ('exit(msg="x")', "only message"),
    ('do(action="Click", element=some_var)', "plain string"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_malformed_outputs_get_a_clear_error(text, message):
    with pytest.raises(ParseError, match=message):
        parse_action(text)
