"""Local background removal in /render: a 12 MP JPEG → 1024 px PNG with alpha (issue 20).

    .venv/bin/python bench/edit_bg_remove.py [--runs 10] [--cores 1]

In-process through the delivery app (ASGI, no network), pinned to `--cores` CPUs
(default 1: the issue's target is under 1 s on one core). Each timed call deletes the
stored result first, so every call runs the model. Reported per call (median, p90):
total = `GET /render/{id}?edit=bg_remove&wd=1024&fm=png`; edit = the provider call (array
in, RGBA array out: model + mask upscale); model = MediaPipe's graph alone; and the same
render without the edit, for what decode, resize and PNG encoding cost anyway.
"""

from __future__ import annotations

from shared.libvips import use_bundled

use_bundled()  # before pyvips loads: the libvips `picsha serve` gives /render

import argparse
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyvips
from common import console, machine_line, make_test_jpeg, median, ms, percentile, print_table
from fastapi.testclient import TestClient

from delivery.app import create_app
from shared import imaging
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest
from shared.settings import Settings
from shared.storage.local import LocalStore

QUERY = "edit=bg_remove&wd=1024&fm=png"


def timed(fn: Callable[..., Any], log: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            log.append(time.perf_counter() - start)

    return wrapper


def ready_asset(store: LocalStore, path: Path, settings: Settings) -> str:
    data = path.read_bytes()
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    manifest = Manifest(
        id=asset_id,
        source=Source(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest()),
    )
    manifest.source.mime, manifest.kind, manifest.status = "image/jpeg", "image", "ready"
    manifest.image = imaging.probe(path, settings.max_source_pixels).image_info()
    save_manifest(store, manifest)
    return asset_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--cores", type=int, default=1)
    args = parser.parse_args()
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    photo = make_test_jpeg()
    with tempfile.TemporaryDirectory(prefix="picsha-bench-edit-") as tmp:
        settings = Settings(data_dir=Path(tmp), render_concurrency=1, edit_rate_per_minute=0)
        store = LocalStore(settings.data_dir / "objects")
        asset_id = ready_asset(store, photo, settings)
        app = create_app(settings, store)
        editor = app.state.delivery.editor
        provider = editor.provider
        edit_log: list[float] = []
        model_log: list[float] = []
        provider.edit_image = timed(provider.edit_image, edit_log)  # type: ignore[method-assign]
        from shared.ai.local.segment import Segmenter

        segmenter = provider._model("segment", Segmenter)
        segmenter.probability = timed(segmenter.probability, model_log)  # type: ignore[method-assign]
        client = TestClient(app)

        def render(query: str) -> float:
            store.delete_prefix(f"renders/{asset_id}/")
            start = time.perf_counter()
            r = client.get(f"/render/{asset_id}?{query}")
            took = time.perf_counter() - start
            assert r.status_code == 200, r.text
            assert imaging.sniff_format(r.content) == "png"
            return took

        for _ in range(args.warmup):
            render(QUERY)
            render("wd=1024&fm=png")
        edit_log.clear()
        model_log.clear()
        totals, plains = [], []
        for _ in range(args.runs):
            totals.append(render(QUERY))
            plains.append(render("wd=1024&fm=png"))
        store.delete_prefix(f"renders/{asset_id}/")
        out = pyvips.Image.new_from_buffer(client.get(f"/render/{asset_id}?{QUERY}").content, "")
        assert out.width == 1024 and out.hasalpha(), (out.width, out.bands)
    console.print(machine_line())
    console.print(
        f"input {photo.name} ({photo.stat().st_size / 1e6:.1f} MB), {args.runs} runs, "
        f"pinned to {args.cores} core(s)"
    )
    rows = [
        ["render + bg_remove (total)", ms(median(totals)), ms(percentile(totals, 90)), "100 %"],
        ["  edit (provider call)", ms(median(edit_log)), ms(percentile(edit_log, 90)),
         f"{median(edit_log) / median(totals):.0%}"],
        ["  model (MediaPipe graph)", ms(median(model_log)), ms(percentile(model_log, 90)),
         f"{median(model_log) / median(totals):.0%}"],
        ["render without edit", ms(median(plains)), ms(percentile(plains, 90)),
         f"{median(plains) / median(totals):.0%}"],
    ]  # fmt: skip
    print_table("12 MP JPEG → 1024 px PNG", ["what", "p50", "p90", "share of total"], rows)


if __name__ == "__main__":
    main()
