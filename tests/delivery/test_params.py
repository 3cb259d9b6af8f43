import pytest

from delivery.params import parse
from shared.errors import PicshaError


def test_parses_and_normalises():
    p = parse([("wd", "500"), ("ht", "300"), ("crop", "TRUE"), ("fm", "JPG"), ("g", "centre")])
    assert (p.wd, p.ht, p.crop, p.fm, p.g) == (500, 300, True, "jpeg", "center")
    assert p.effective_fit == "cover"


def test_equal_requests_in_other_spellings_share_a_canonical_form():
    a = parse([("wd", "500"), ("ht", "500"), ("crop", "true"), ("fm", "webp")])
    b = parse([("fm", "WEBP"), ("fit", "cover"), ("ht", "500"), ("wd", "500"), ("dpr", "1")])
    assert a.canonical() == b.canonical() == "fit=cover&fm=webp&ht=500&wd=500"
    assert parse([("wd", "500"), ("q", "80")]).canonical() != a.canonical()


def test_no_parameters_or_only_a_signature_is_not_a_transform():
    assert not parse([]).is_transform
    assert not parse([("sig", "abc")]).is_transform
    assert parse([("fm", "png")]).is_transform


def test_bg_accepts_short_and_long_hex():
    assert parse([("bg", "F80")]).bg == "ff8800"
    assert parse([("bg", "#00aa11")]).bg == "00aa11"


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ([("wd", "0")], "invalid_parameter"),
        ([("wd", "-5")], "invalid_parameter"),
        ([("wd", "abc")], "invalid_parameter"),
        ([("wd", "1e3")], "invalid_parameter"),
        ([("wd", "9" * 400)], "invalid_parameter"),
        ([("ht", "100001")], "invalid_parameter"),
        ([("q", "101")], "invalid_parameter"),
        ([("dpr", "nan")], "invalid_parameter"),
        ([("dpr", "inf")], "invalid_parameter"),
        ([("dpr", "5")], "invalid_parameter"),
        ([("crop", "maybe")], "invalid_parameter"),
        ([("fm", "bmp")], "invalid_parameter"),
        ([("fit", "stretch")], "invalid_parameter"),
        ([("bg", "zzzzzz")], "invalid_parameter"),
        ([("wd", "1"), ("wd", "2")], "repeated_parameter"),
        ([("width", "100")], "unknown_parameter"),
    ],
)
def test_bad_parameters_are_400_with_the_name(items, code):
    with pytest.raises(PicshaError) as err:
        parse(items)
    assert err.value.status == 400 and err.value.code == code
    assert items[0][0] in err.value.message
