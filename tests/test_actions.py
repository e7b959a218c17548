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
    # the rest of WebArena-Lite's WebRL action set, and the spellings of WebRL's and the paper's prompts
    ('do(action="click", element="3")', Action("Click", element=3)),
    ('do(action="type", argument="ann", element="6")', Action("Type", element=6, argument="ann")),
    ('do(action="select dropdown option", argument="Canada", element="9")',
     Action("Select Dropdown Option", element=9, argument="Canada")),
    ('do(action="press enter")', Action("Press Enter")),
    ('do(action="scroll down")', Action("Scroll Down")),
    ('do(action="go backward")', Action("Go Backward")),
    ('do(action="go forward")', Action("Go Forward")),
    ('do(action="search", argument="kettle", element="2")', Action("Search", element=2, argument="kettle")),
    ('do(action="hover", element="8")', Action("Hover", element=8)),
    ('go_backward()', Action("Go Backward")),
    ('# Element: back\ngo_backward()', Action("Go Backward", element_description="back")),
    ('do(action="Right Click", element="4")', Action("Right Click", element=4)),
    ('do(action="Wait")', Action("Wait")),
    ('do(action="Wait", argument="3")', Action("Wait", argument="3")),
    ('do(action="Switch Tab", argument="1")', Action("Switch Tab", argument="1")),
    ('do(action="Goto", argument="http://localhost:7770/")', Action("Goto", argument="http://localhost:7770/")),
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
    ('do(action="Click")', "needs element"),
    ('do(action="Type", element="3")', "needs argument"),
    ('do(action="Click", element="the blue button")', "numeric id"),
    ('do(action="Scroll Down", argument="3")', "does not take argument"),
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


def test_the_canonical_form_of_every_spelling_is_the_trained_one():
    assert parse_action('do(action="select_dropdown_option", argument="a", element="2")').call() == \
        'do(action="Select Dropdown Option", argument="a", element="2")'
    assert parse_action("go_backward()").call() == 'do(action="Go Backward")'
    with pytest.raises(ParseError, match="takes nothing"):
        parse_action('go_backward("x")')
    with pytest.raises(ParseError, match="unknown action"):
        parse_action('do(action="Teleport", element="2")')
