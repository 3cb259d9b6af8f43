import pytest

from shared.signing import canonical, sign_url, signature, thumbor_signature, verify


def test_canonical_form_ignores_order_case_empties_and_sig():
    a = canonical("/render/x", [("wd", "500"), ("HT", "300"), ("q", ""), ("sig", "zzz")])
    b = canonical("/render/x", [("ht", "300"), ("wd", "500")])
    assert a == b == "/render/x?ht=300&wd=500"


def test_sign_and_verify_round_trip():
    url = sign_url("k", "https://cdn.example.com/render/abc?wd=500&ht=500&crop=true")
    assert url.startswith("https://cdn.example.com/render/abc?") and "&sig=" in url
    sig = url.rsplit("sig=", 1)[1]
    items = [("wd", "500"), ("ht", "500"), ("crop", "true")]
    assert verify("k", "/render/abc", items, sig)
    assert not verify("other", "/render/abc", items, sig)
    assert not verify("k", "/render/abc", [("wd", "501"), ("ht", "500"), ("crop", "true")], sig)
    assert not verify("k", "/render/abd", items, sig)
    assert "=" not in signature("k", "/p", [])  # URL-safe, unpadded


def test_text_values_are_encoded_consistently():
    items = [("txt", "a b&c=d")]
    url = sign_url("k", "/render/abc?txt=a%20b%26c%3Dd")
    assert verify("k", "/render/abc", items, url.rsplit("sig=", 1)[1])


def test_a_thumbor_url_is_signed_in_its_path_not_with_sig():
    rest = "fit-in/300x200/filters:format(webp)/V1StGXR8_Z5jdHi6B-myT"
    signed = sign_url("k", f"https://cdn.example.com/thumbor/unsafe/{rest}")
    expected = thumbor_signature("k", rest)
    assert signed == f"https://cdn.example.com/thumbor/{expected}/{rest}"
    assert "?" not in signed and len(expected) == 28  # thumbor's padded HMAC-SHA1
    assert sign_url("k", f"/thumbor/{rest}") == f"/thumbor/{expected}/{rest}"  # no `unsafe/`
    assert (
        sign_url("k", sign_url("other", f"/thumbor/unsafe/{rest}")) == f"/thumbor/{expected}/{rest}"
    )


def test_a_thumbor_url_signs_its_decoded_path_as_delivery_checks_it():
    signed = sign_url("k", "/thumbor/unsafe/100x0/a%20b")
    assert signed == f"/thumbor/{thumbor_signature('k', '100x0/a b')}/100x0/a%20b"


def test_a_thumbor_url_with_a_query_is_refused():
    with pytest.raises(ValueError, match="no query"):
        sign_url("k", "/thumbor/unsafe/100x100/abc?wd=1")
