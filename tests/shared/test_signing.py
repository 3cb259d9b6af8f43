from shared.signing import canonical, sign_url, signature, verify


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
