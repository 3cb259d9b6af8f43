"""thumbor's URL grammar: libthumbor's parse cases, and totality — every URL built from the
grammar, whatever its values, answers 200 or a JSON 4xx."""

import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from delivery.thumbor.filters import SIGNATURES, Filter
from delivery.thumbor.url import BIG, ThumborUrl, Trim, parse
from shared.errors import PicshaError
from tests.helpers import make_jpeg

ID = "a" * 21


def test_parses_every_part():
    u = parse(
        "debug/meta/trim/300x200:400x500/adaptive-full-fit-in/-300x-400/"
        f"left/top/smart/filters:brightness(100)/{ID}"
    )
    assert u == ThumborUrl(
        image=ID,
        width=300,
        height=400,
        flip_h=True,
        flip_v=True,
        fit_in=True,
        adaptive=True,
        full=True,
        crop=(300, 200, 400, 500),
        halign="left",
        valign="top",
        smart=True,
        trim=Trim(),
        filters=(Filter("brightness", (100,)),),
        meta=True,
        debug=True,
    )


@pytest.mark.parametrize(
    ("size", "width", "height", "flip_h", "flip_v"),
    [
        ("300x200", 300, 200, False, False),
        ("300x", 300, 0, False, False),
        ("x300", 0, 300, False, False),
        ("-x194", 0, 194, True, False),  # a bare minus flips, the side stays proportional
        ("x-", 0, 0, False, True),
        ("-x-", 0, 0, True, True),
        ("-0x-0", 0, 0, True, True),  # libthumbor's spelling of flip + flop
        ("origx100", "orig", 100, False, False),
        ("-origx-orig", "orig", "orig", True, True),
        ("9" * 400 + "x1", BIG, 1, False, False),  # hundreds of digits: "very large"
    ],
)
def test_sizes(size, width, height, flip_h, flip_v):
    u = parse(f"{size}/{ID}")
    assert (u.width, u.height, u.flip_h, u.flip_v) == (width, height, flip_h, flip_v)


@pytest.mark.parametrize(
    ("part", "trim"),
    [
        ("trim", Trim("top-left", 0)),
        ("trim:top-left", Trim("top-left", 0)),
        ("trim:bottom-right:15", Trim("bottom-right", 15)),
        ("trim::15", Trim("top-left", 15)),  # libthumbor composes tolerance-only like this
        ("trim:20", Trim("top-left", 20)),
    ],
)
def test_trim(part, trim):
    assert parse(f"{part}/{ID}").trim == trim


def test_crop_0x0_0x0_is_no_crop_and_huge_values_are_capped():
    assert parse(f"0x0:0x0/{ID}").crop is None
    assert parse(f"0x0:{'9' * 300}x5/{ID}").crop == (0, 0, BIG, 5)


@pytest.mark.parametrize(
    "path",
    [
        f"full-adaptive-fit-in/10x10/{ID}",  # thumbor's order is adaptive-full-
        f"10x10/{ID}/more",
        "",
        f"10xx10/{ID}",
        f"left/center/{ID}",
    ],
)
def test_not_the_grammar_is_a_400(path):
    with pytest.raises(PicshaError) as exc:
        parse(path)
    assert (exc.value.status, exc.value.code) == (400, "invalid_thumbor_url")


# --- totality -------------------------------------------------------------------------


def _digits(max_size: int = 400) -> st.SearchStrategy[str]:
    return st.text(string.digits, min_size=1, max_size=max_size)


DIGITS = st.one_of(st.integers(0, 64).map(str), _digits())
SIDE = st.one_of(DIGITS, st.sampled_from(["", "orig", "0"]))
JUNK = st.sampled_from(["", "-", "orig", "x", "é"])  # makes the part fall out of the grammar
# fmt: off
WORDS = [
    "", " ", "-", "nan", "1e309", ".5", "-0.5", "true", "False", "none", "center", "repeat",
    "-10p", "30p", "red", "transparent", "auto", "blur", "ff0000", "'a,b'", "'", "1|2",
    "1;2;1", "[(0,0),(255,255)]", ID, "webp", "'webp'", "heic", "é", "\u202e",
]
# fmt: on
ARG = st.one_of(
    st.integers(-300, 300).map(str),
    st.builds(lambda sign, d: sign + d, st.sampled_from(["", "-"]), _digits()),
    st.sampled_from(WORDS),
    st.text(max_size=12).filter(lambda s: not set(s) & set("/?#%")),
)
FILTER = st.builds(
    lambda name, args: f"{name}({','.join(args)})",
    st.one_of(st.sampled_from(sorted(SIGNATURES)), st.text(string.ascii_lowercase, max_size=8)),
    st.lists(ARG, max_size=6),
)
SEGMENTS = st.fixed_dictionaries(
    {
        "debug": st.sampled_from(["", "debug/"]),
        "meta": st.sampled_from(["", "meta/"]),
        "trim": st.one_of(
            st.just(""),
            st.builds(
                lambda c, t: f"trim{c}{t}/",
                st.sampled_from(["", ":top-left", ":bottom-right", ":"]),
                st.one_of(st.just(""), DIGITS.map(lambda n: f":{n}")),
            ),
        ),
        "crop": st.one_of(
            st.just(""),
            st.builds(
                lambda a, b, c, d: f"{a}x{b}:{c}x{d}/",
                DIGITS,
                DIGITS,
                DIGITS,
                st.one_of(DIGITS, JUNK),
            ),
        ),
        "fit": st.sampled_from(
            ["", "fit-in/", "adaptive-fit-in/", "full-fit-in/", "adaptive-full-fit-in/"]
        ),
        "size": st.one_of(
            st.just(""),
            st.builds(
                lambda a, b, c, d: f"{a}{b}x{c}{d}/",
                st.sampled_from(["", "-"]),
                SIDE,
                st.sampled_from(["", "-"]),
                st.one_of(SIDE, JUNK),
            ),
        ),
        "halign": st.sampled_from(["", "left/", "center/", "right/"]),
        "valign": st.sampled_from(["", "top/", "middle/", "bottom/"]),
        "smart": st.sampled_from(["", "smart/"]),
        "filters": st.one_of(
            st.just(""),
            st.lists(FILTER, min_size=1, max_size=4).map(
                lambda fs: "filters:" + ":".join(fs) + "/"
            ),
        ),
    }
)
ORDER = ["debug", "meta", "trim", "crop", "fit", "size", "halign", "valign", "smart", "filters"]


@pytest.fixture
def small_client(settings, store, ingest, tmp_path):
    """Output limits small enough that a huge size is refused before any work."""
    from fastapi.testclient import TestClient

    from delivery.app import create_app

    settings.render_max_side = 300
    settings.render_max_pixels = 300 * 300
    photo = ingest(make_jpeg(tmp_path / "f.jpg", 48, 32).read_bytes(), "f.jpg")
    mark = ingest(make_jpeg(tmp_path / "m.jpg", 8, 6).read_bytes(), "m.jpg")
    return TestClient(create_app(settings, store)), photo.id, mark.id


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=SEGMENTS)
@example(parts={"size": "-x194/"})
@example(parts={"size": "x-/"})
@example(parts={"size": "-x-/"})
@example(parts={"size": "9" * 300 + "x1/"})
@example(parts={"fit": "fit-in/", "size": "1x" + "9" * 500 + "/"})
@example(parts={"crop": "0x0:" + "9" * 400 + "x1/", "size": "10x10/"})
@example(parts={"filters": "filters:rotate(" + "9" * 500 + "):brightness(-" + "9" * 400 + ")/"})
@example(parts={"filters": "filters:fill(" + "f" * 300 + "):blur(" + "9" * 50 + ")/"})
@example(
    parts={
        "filters": "filters:watermark(MARK," + "9" * 40 + "p,-" + "9" * 40 + ",5," + "9" * 30 + ")/"
    }
)
def test_every_url_answers_200_or_a_json_4xx(small_client, parts):
    client, photo, mark = small_client
    path = "".join(parts.get(k, "") for k in ORDER).replace("MARK", mark).replace(ID, mark)
    r = client.get(quote(f"/thumbor/unsafe/{path}{photo}", safe="/:(),;|'[]-"))
    assert r.status_code == 200 or 400 <= r.status_code < 500, (path, r.status_code, r.text)
    if r.status_code >= 400:
        error = r.json()["error"]
        assert error["code"] and error["message"]
