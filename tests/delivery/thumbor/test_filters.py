"""The `filters:` list is as lenient as thumbor's: a filter it cannot parse is skipped and
the rest run (its BaseFilter argument cases, expressed through real filters)."""

import pytest

from delivery.thumbor.filters import Filter, parse_filters
from shared.errors import PicshaError


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1), ("-10", -10), ("010", 10), ("  1 ", 1), ("0", 0), ("9" * 40, 10**9)],
)
def test_numbers(text, value):
    assert parse_filters(f"brightness({text})") == (Filter("brightness", (value,)),)


@pytest.mark.parametrize("text", ["x", "x10", "10x", "- 1", "", "1.5"])
def test_invalid_numbers_skip_the_filter(text):
    assert parse_filters(f"brightness({text})") == ()


@pytest.mark.parametrize(
    ("text", "ok"),
    [("1", True), ("0", True), ("-1", False), ("x", False)],  # quality takes 0 and up
)
def test_positive_numbers(text, ok):
    assert bool(parse_filters(f"quality({text})")) is ok


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1.0), ("-1.1", -1.1), (".11", 0.11), (" -10.2 ", -10.2), ("0", 0.0)],
)
def test_decimals(text, value):
    assert parse_filters(f"proportion({text})") == (Filter("proportion", (value,)),)


@pytest.mark.parametrize("text", ["x", "- 1.1", "", ".", "1e5"])
def test_invalid_decimals(text):
    assert parse_filters(f"proportion({text})") == ()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", True),
        ("True", True),
        ("true", True),
        ("0", False),
        ("False", False),
        (" True ", True),
    ],
)
def test_booleans(text, value):
    assert parse_filters(f"fill(red,{text})") == (Filter("fill", ("red", value)),)


def test_strings_take_quotes_and_commas_in_quotes():
    assert parse_filters("format('webp')") == (Filter("format", ("webp",)),)
    assert parse_filters("watermark('a,b',1,2,3)") == (Filter("watermark", ("a,b", "1", "2", 3)),)
    assert parse_filters("focal(  cc:cc  )") == (Filter("focal", ("cc:cc",)),)
    assert parse_filters("format()") == ()


def test_unknown_and_unparsable_filters_are_skipped_and_the_rest_run():
    got = parse_filters("sepia():brightness(x):quality(-1):format(asdf):blur(nan):contrast(5)")
    assert got == (Filter("format", ("asdf",)), Filter("contrast", (5,)))


def test_arguments_may_contain_colons():
    got = parse_filters("focal(aaaa):focal(aa:aa)")
    assert got == (Filter("focal", ("aaaa",)), Filter("focal", ("aa:aa",)))


def test_optional_arguments():
    assert parse_filters("blur(4)") == (Filter("blur", (4,)),)
    assert parse_filters("blur(4, 2)") == (Filter("blur", (4, 2.0)),)
    assert parse_filters("blur(0)") == ()  # the radius must be at least 1
    assert parse_filters("noise(5)") == (Filter("noise", (5,)),)


@pytest.mark.parametrize("name", ["frame(x.png)", "redeye()", "gifv()", "gifv(webm)"])
def test_filters_picsha_cannot_run_are_a_documented_400(name):
    with pytest.raises(PicshaError) as exc:
        parse_filters(name)
    assert (exc.value.status, exc.value.code) == (400, "unsupported_filter")
