from shared.ids import ALPHABET, ID_LENGTH, is_valid_id, new_id


def test_ids_are_url_safe_and_21_chars():
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    for i in ids:
        assert len(i) == ID_LENGTH
        assert set(i) <= set(ALPHABET)
        assert is_valid_id(i)


def test_traversal_and_junk_are_not_ids():
    for bad in ["../../etc/passwd", "a" * 20, "a" * 22, "abc/def" + "a" * 14, "", "%2e%2e"]:
        assert not is_valid_id(bad)
