"""Ingest latency: upload → `ready` for a 12 MP JPEG with `pre_render_sizes=true`.

    .venv/bin/python bench/ingest.py [--runs 5] [--quick]

Floor: making the two samples in-process with libvips (one shrink-on-load decode into the
2048 px box → WebP Q80, then the 150 px thumb from those pixels → WebP Q75, as the app's
settings ask), timed next to each ingest. Ingest: a fresh upload per run to one
`picsha serve`, polled every 20 ms until `ready`. Ratio = floor / ingest (1.0 = no
overhead at all).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyvips
from common import (
    SERVER_TROUBLE,
    OtherLoad,
    add_server_options,
    api_client,
    console,
    machine_line,
    make_test_jpeg,
    median,
    ms,
    print_table,
    running_server,
    upload,
    wait_for_quiet,
    wait_ready,
)

from shared.imaging import KEEP_NONE

OPTIMIZED_SIDE, OPTIMIZED_Q = 2048, 80  # shared/settings.py defaults
THUMB_SIDE, THUMB_Q = 150, 75  # ingest_worker/stages/render.py encodes the thumb at Q75
POLL_INTERVAL = 0.02


def floor_once(path: Path) -> tuple[int, int]:
    """The least work that yields both samples: one decode, two encodes."""
    base = pyvips.Image.thumbnail(str(path), OPTIMIZED_SIDE, height=OPTIMIZED_SIDE)
    base = base.copy_memory()  # decode once; the thumb reuses these pixels
    optimized = base.webpsave_buffer(Q=OPTIMIZED_Q, **KEEP_NONE)
    thumb = base.thumbnail_image(THUMB_SIDE, height=THUMB_SIDE).webpsave_buffer(
        Q=THUMB_Q, **KEEP_NONE
    )
    return len(optimized), len(thumb)


@dataclass
class IngestRun:
    upload: float  # POST round trip, client clock
    queued: float  # 202 → first poll that saw `processing` (±20 ms)
    processing: float  # first `processing` seen → manifest updated_at (ready written)
    notice: float  # manifest written → client saw `ready` (polling lag)
    total: float  # POST sent → `ready` seen
    pipeline: float  # manifest created_at → updated_at (server clock)
    polls: int
    other_load: float
    pyramid_bytes: int  # 0: none written


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def ingest_once(api, path: Path, load: OtherLoad) -> IngestRun:  # api: httpx.Client
    load.start()
    t_send = time.time()
    asset_id = upload(api, path, pre_render_sizes=True)
    t_accepted = time.time()
    progress = wait_ready(api, asset_id, interval=POLL_INTERVAL, timeout=120)
    manifest = progress.manifest
    derivatives = manifest.get("derivatives", {})
    if not {"optimized", "thumb"} <= set(derivatives):
        raise RuntimeError(f"ready without both samples: {sorted(derivatives)}")
    created, written = _ts(manifest["created_at"]), _ts(manifest["updated_at"])
    t_ready = progress.first_seen["ready"]
    # A fast job can go queued → ready between two polls; then `processing` was never seen.
    t_processing = progress.first_seen.get("processing", t_accepted)
    return IngestRun(
        upload=t_accepted - t_send,
        queued=max(0.0, t_processing - t_accepted),
        processing=max(0.0, written - t_processing),
        notice=max(0.0, t_ready - written),
        total=t_ready - t_send,
        pipeline=written - created,
        polls=progress.polls,
        other_load=load.cores(),
        pyramid_bytes=derivatives.get("pyramid", {}).get("bytes", 0),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed ingests")
    parser.add_argument("--warmup", type=int, default=2, help="untimed ingests first")
    parser.add_argument("--quick", action="store_true", help="short run (2 runs, 1 warm-up)")
    add_server_options(parser)
    parser.add_argument(
        "--spacing",
        type=float,
        default=0.5,
        metavar="S",
        help="random 0..S s pause before each upload (0: back to back)",
    )
    parser.add_argument(
        "--no-pyramid", action="store_true",
        help="the server makes no pyramid.tif (PICSHA_RENDER_PYRAMID=false): its cost is the "
        "difference",
    )  # fmt: skip
    args = parser.parse_args()
    if args.no_pyramid:
        os.environ["PICSHA_RENDER_PYRAMID"] = "false"  # running_server passes it on
    runs = 2 if args.quick else max(1, args.runs)
    warmup = 1 if args.quick else max(0, args.warmup)
    spacing = random.Random(2)  # fixed seed: the same pauses on every run of the bench

    pyvips.cache_set_max(0)  # else the floor's repeats would hit libvips' operation cache
    path = make_test_jpeg()
    idle = wait_for_quiet(args.wait_quiet)
    console.print(f"[bold]ingest bench[/] · {machine_line()} · other load {idle:.2f} cores")
    console.print(f"input {path.name} ({path.stat().st_size / 1e6:.1f} MB) · {runs} runs")
    sizes = floor_once(path)
    console.print(f"floor samples: optimized {sizes[0]} B, thumb {sizes[1]} B")

    rows: list[list[object]] = []
    timed: list[IngestRun] = []
    floor_times: list[float] = []
    with running_server(workers=args.workers) as server, api_client(server) as api:
        load = OtherLoad(server.proc.pid)
        # Warm-ups pay the per-worker-process start costs (Celery boot, ExifTool) once.
        for i in range(warmup + runs):
            # The floor is timed next to each ingest, so both see the same background load.
            t0 = time.perf_counter()
            floor_once(path)
            floor = time.perf_counter() - t0
            # Uploads land at random points of the embedded broker's poll cycle, as a
            # user's would; back to back they phase-lock to it and always wait the longest.
            time.sleep(spacing.uniform(0, max(0.0, args.spacing)))
            run = ingest_once(api, path, load)
            label = f"warm-up {i + 1}" if i < warmup else f"run {i - warmup + 1}"
            if i >= warmup:
                timed.append(run)
                floor_times.append(floor)
            rows.append(
                [
                    label,
                    ms(floor),
                    ms(run.upload),
                    ms(run.queued),
                    ms(run.processing),
                    ms(run.notice),
                    ms(run.total),
                    ms(run.pipeline),
                    run.polls,
                    f"{run.other_load:.2f}",
                ]
            )
        server_problems = server.log_grep(*SERVER_TROUBLE)

    fields = ("upload", "queued", "processing", "notice", "total", "pipeline")
    medians = {name: median([getattr(r, name) for r in timed]) for name in fields}
    floor_med = median(floor_times)
    rows.append(
        [
            "median",
            ms(floor_med),
            *(ms(medians[name]) for name in fields),
            "",
            f"{median([r.other_load for r in timed]):.2f}",
        ]
    )
    print_table(
        "Ingest of a 12 MP JPEG with pre_render_sizes=true (ms)",
        ["run", "floor", *fields, "polls", "other load"],
        rows,
        caption=(
            "floor = both samples in-process · upload = POST round trip · queued = 202 → "
            "`processing` seen · processing → manifest written · notice = written → `ready` "
            "seen · total = POST sent → `ready` seen · pipeline = created_at → updated_at · "
            "other load = cores busy with processes not ours (ingest only)"
        ),
    )
    total = medians["total"]
    print_table(
        "Ingest vs the floor of its two samples (medians)",
        ["measure", "ms"],
        [
            ["floor: 2048 px WebP + 150 px WebP, in-process", ms(floor_med)],
            ["ingest: upload → ready seen", ms(total)],
            ["ingest: processing only (worker)", ms(medians["processing"])],
            ["ratio floor / ingest total", f"{floor_med / total:.2f}"],
            ["ratio floor / processing", f"{floor_med / medians['processing']:.2f}"],
            ["overhead over the floor", ms(total - floor_med)],
        ],
    )
    pyramid = median([r.pyramid_bytes for r in timed])
    console.print(
        f"pyramid.tif: {pyramid / 1e6:.2f} MB = {100 * pyramid / path.stat().st_size:.0f} % "
        "of the original"
        if pyramid
        else "no pyramid.tif written"
    )
    for line in server_problems[:10]:
        console.print(f"[yellow]server log:[/] {line}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; server stopped")
        raise SystemExit(130) from None
