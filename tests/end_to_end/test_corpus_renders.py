"""Every corpus image that ingests `ready` renders through /render: right status, format by
magic bytes and size, in three common shapes. Run on both libvips builds (docs/delivery.md,
"Which libvips"); skipped cleanly when the corpus is absent. Documents, videos and audio
are left out: they render from a plain poster.jpg (tests/end_to_end/test_render_sources.py,
tests/delivery/test_frames.py), and converting or transcoding them would triple the time."""

import pytest
from fastapi.testclient import TestClient

from delivery.app import create_app
from shared import imaging
from tests.helpers import load

ACCEPT_ALL = {"accept": "image/avif,image/webp,image/png,*/*"}
POSTER_ONLY = ("docs/", "pdf/", "video/", "audio/")


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _problems(client, asset) -> list[str]:
    width, height = asset.image.width, asset.image.height
    cases = [
        ("wd=300&ht=300&fm=webp", "webp", _fit(width, height, 300)),
        ("wd=200&ht=200&crop=true&up=true&fm=jpeg", "jpeg", (200, 200)),
        ("wd=120&ht=120&fm=auto", "avif", _fit(width, height, 120)),
    ]
    found = []
    for query, fmt, size in cases:
        r = client.get(f"/render/{asset.id}?{query}", headers=ACCEPT_ALL)
        if r.status_code != 200:
            found.append(f"{query}: {r.status_code} {r.text[:200]}")
            continue
        if imaging.sniff_format(r.content) != fmt:
            found.append(f"{query}: not {fmt}")
            continue
        image = load(r.content)
        got = (image.width, image.height)
        if any(abs(a - b) > 1 for a, b in zip(got, size, strict=True)):
            found.append(f"{query}: {got[0]}x{got[1]}, expected {size[0]}x{size[1]}")
    return found


@pytest.mark.slow
def test_every_ready_corpus_asset_renders(corpus_ingest):
    # The session's corpus run (tests/corpus_ingest.py), read by delivery's own app.
    client = TestClient(create_app(corpus_ingest.settings, corpus_ingest.store))
    rows = [row for row in corpus_ingest.rows if not row["path"].startswith(POSTER_ONLY)]
    problems: dict[str, str] = {}
    rendered = 0
    for row in rows:
        relpath = row["path"]
        asset = corpus_ingest.asset(relpath)
        if asset.status != "ready":
            continue  # which files fail, and how, is tests/ingest_worker/test_corpus.py's
        rendered += 1
        if found := _problems(client, asset):
            problems[relpath] = "; ".join(found)
    assert problems == {}
    assert rendered > len(rows) // 3  # most of the corpus is renderable on either build
