"""Parameter values as they arrive from a project file, --set, a sweep or the inspector:
converted where the meaning is plain, refused with the words an artist reads otherwise."""

from __future__ import annotations

import pytest

from nodes.definition import Param, ParamError


@pytest.mark.parametrize("param, given, held", [
    (Param.int(4, min=1, max=10), "7", 7),
    (Param.int(4, min=1, max=10), " 1_0 ", 10),      # the one number parser: spaces, underscores
    (Param.int(4, min=1, max=10), 3.0, 3),           # a whole float from JSON
    (Param.int(4, min=1, max=10), 1, 1),             # the minimum itself
    (Param.int(4, min=1, max=10), 10, 10),           # the maximum itself
    (Param.float(1.0, min=0.0), "1e3", 1000.0),
    (Param.float(1.0, min=-5.0), "\u22123", -3.0),  # a typographic minus
    (Param.float(1.0), 2, 2.0),
    (Param.bool(False), "yes", True),
    (Param.bool(True), "Off", False),
    (Param.bool(True), False, False),
    (Param.choice("a", ["a", "b"]), "b", "b"),
    (Param.text(), "a red circle", "a red circle"),
    (Param.seed(), 2**32 - 1, 2**32 - 1),
])
def test_plain_values_are_taken(param, given, held):
    value = param.coerce(given)
    assert value == held and type(value) is type(held)


@pytest.mark.parametrize("param, given, message", [
    (Param.int(4, min=1, max=10), 0, "0 is below the minimum 1"),
    (Param.int(4, min=1, max=10), 11, "11 is above the maximum 10"),
    (Param.int(4), True, "expected a whole number, got True"),
    (Param.int(4), 2.5, "expected a whole number, got 2.5"),
    (Param.int(4), "ten", "expected a whole number, got 'ten'"),
    (Param.int(4), [1], "expected a whole number, got list [1]"),
    (Param.float(1.0, min=0.5), 0.25, "0.25 is below the minimum 0.5"),
    (Param.float(1.0), float("nan"), "expected a finite number, got nan"),
    (Param.float(1.0), "inf", "expected a number, got 'inf'"),
    (Param.float(1.0), False, "expected a number, got False"),
    (Param.bool(False), "maybe", "expected true or false, got 'maybe'"),
    (Param.bool(False), 1, "expected true or false, got int 1"),
    (Param.choice("a", ["a", "b"]), "c", "expected one of a, b; got 'c'"),
    (Param.text(), 3, "expected text, got int 3"),
    (Param.seed(), -1, "-1 is below the minimum 0"),
    (Param.seed(), 2**32, "4294967296 is above the maximum 4294967295"),
])
def test_wrong_values_are_refused_saying_what_was_expected(param, given, message):
    with pytest.raises(ParamError) as raised:
        param.coerce(given)
    assert str(raised.value) == message


def test_choices_that_change_are_read_when_the_value_is_checked():
    models = ["sketch-video"]
    param = Param.choice("sketch-video", lambda: tuple(models))
    with pytest.raises(ParamError, match="expected one of sketch-video; got 'wan-2.1'"):
        param.coerce("wan-2.1")
    models.append("wan-2.1")  # installed since
    assert param.coerce("wan-2.1") == "wan-2.1"
