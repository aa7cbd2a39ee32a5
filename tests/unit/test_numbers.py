"""One way to read a number: --set, a sweep range and the inspector agree on what text means."""

from __future__ import annotations

import pytest

from app.batch.sweep import BatchInputError, parse_range
from app.ui.panels.fields import read_number
from nodes.definition import Param, ParamError
from nodes.numbers import NotANumber, parse_number, short


@pytest.mark.parametrize("text, value", [
    (" 12 ", 12.0), ("1e3", 1000.0), ("\u22123.5", -3.5), ("1_000", 1000.0), ("+2", 2.0),
])
def test_the_same_text_is_the_same_number_everywhere(text, value):
    assert parse_number(text) == value
    assert Param.float(0.0, min=-1e6, max=1e6).coerce(text) == value  # --set, CSV cells, project files
    assert read_number(text, Param.float(0.0, min=-1e6, max=1e6)) == (value, "")  # the inspector
    assert parse_range(f"{text}..{text}", "--sweep").values(False, "--sweep") == [value]


def test_a_decimal_comma_is_read_only_where_a_comma_means_nothing_else():
    assert read_number("2,5", Param.float(0.0, min=0, max=10)) == (2.5, "")
    with pytest.raises(NotANumber):
        parse_number("2,5")  # on a command line a comma separates values


@pytest.mark.parametrize("text", ["lots", "inf", "nan", ""])
def test_what_is_not_a_finite_number_is_refused_everywhere(text):
    with pytest.raises(NotANumber):
        parse_number(text)
    with pytest.raises(ParamError):
        Param.float(0.0).coerce(text)
    with pytest.raises(ValueError):
        read_number(text, Param.float(0.0))
    with pytest.raises(BatchInputError):
        parse_range(f"1..{text or 'x'}", "--sweep")


def test_a_whole_number_parameter_takes_1e3_but_not_a_fraction():
    assert Param.int(0, max=10_000).coerce("1e3") == 1000
    with pytest.raises(ParamError, match="expected a whole number"):
        Param.int(0).coerce("2.5")


@pytest.mark.parametrize("value, text", [(16.0, "16"), (-3.0, "-3"), (0.5, "0.5"), (2.25, "2.25"),
                                         (1e15, "1e+15"), (123456789.0, "123456789")])
def test_messages_show_numbers_the_short_way(value, text):
    # "use 17 or 21", not "use 17.0 or 21.0"; a huge whole number stays readable.
    assert short(value) == text
