from shared.memory import limit_malloc_arenas


def test_caps_arenas_on_glibc_unless_the_operator_chose(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True  # Debian's glibc accepts M_ARENA_MAX
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
