"""Video frames: `GET /render/{id}?t=…&wd=640` against ffmpeg alone, in the same run.

    .venv/bin/python bench/render_frame.py [--requests 20] [--quick]

Inputs (made once, cached in bench/out/): 10 s 1080p25 testsrc2 with mild temporal noise +
a 440 Hz tone, H.264 (x264 medium, fixed 2 s GOP) + AAC, faststart, like a camera or an
export; and the same file with a phone's 90° display matrix. Both are uploaded to a fresh
`picsha serve` and ingested by its Celery worker, so `proxy.mp4` is the app's own: a copy
of the first clip (remux), a transcode of the rotated one (rotation baked in).
Timed per clip and output format, alternately for each `t` (every `t` is new, so no
request hits a stored render):
  floor     ffmpeg alone: `-ss t -i proxy.mp4 -frames:v 1 -vf scale=640:-2` to a JPEG or
            WebP on a pipe: the least work any server could do for the request
  steps     the app's own two steps without HTTP: `shared.media.frame_at` (the ffmpeg
            command delivery runs, full-size JPEG to a temp file) + libvips `thumbnail` to
            640 wide and the app's encoder settings, in this process
  /render   `GET /render/{id}?t=…&wd=640[&fm=webp]` over HTTP (keep-alive client)
Then the same URLs again: `PICSHA_RENDER_RESULT_STORE=true` answers them from the result
store (302 + GET of the stored render), and `If-None-Match` with their ETag gets a 304.
Ratio = /render ms ÷ floor ms (p50 and p95); 1.0 would mean HTTP, the app and its extra
steps cost nothing over ffmpeg.
"""

from __future__ import annotations

from shared.libvips import use_bundled

use_bundled()  # before pyvips loads: the in-process steps run on the libvips of /render

import argparse
import contextlib
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyvips
from common import (
    SERVER_TROUBLE,
    OtherLoad,
    Server,
    add_server_options,
    api_client,
    cached_clip,
    console,
    machine_line,
    ms,
    percentile,
    print_table,
    running_server,
    upload,
    wait_for_quiet,
    wait_ready,
)

from shared import imaging, media, process

WIDTH = 640
DURATION = 10.0
GOP_SECONDS = 2
SOURCE = ["-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=25:d={DURATION:g},noise=alls=4:allf=t",
          "-f", "lavfi", "-i", f"sine=f=440:d={DURATION:g}"]  # fmt: skip
# A fixed GOP (no extra keyframes at scene cuts), as cameras and most exports write.
H264 = ["-c:v", "libx264", "-preset", "medium", "-pix_fmt", "yuv420p",
        "-g", str(25 * GOP_SECONDS), "-sc_threshold", "0", "-c:a", "aac",
        "-movflags", "+faststart"]  # fmt: skip
CLIPS: list[tuple[str, str]] = [  # label, file (the rotated one is derived from the first)
    ("1080p GOP 2 s", "frame_h264_1080p_gop2s.mp4"),  # web-ready: proxy = copy
    ("1080p rot 90°", "frame_h264_1080p_gop2s_rot90.mp4"),  # phone: proxy = transcode
]
FORMATS = ("jpeg", "webp")  # jpeg: what /render answers for a video without `fm`
# ffmpeg's own encoders for the floor: mjpeg -q:v 4 comes out near libvips' Q80 in bytes;
# libwebp at quality 80 is the same library and setting as the app's WebP.
FLOOR_CODEC = {
    "jpeg": ["-c:v", "mjpeg", "-q:v", "4", "-update", "1"],
    "webp": ["-c:v", "libwebp", "-quality", "80"],
}
FFMPEG = [*media.FFMPEG]
TIMEOUT = 60.0  # seconds for any one call; a hang is an error, not a long wait
PATHS = ("floor", "steps", "http")
LABELS = {"floor": "floor: ffmpeg", "steps": "frame_at+thumbnail", "http": "GET /render"}


@dataclass
class Clip:
    label: str
    path: Path
    asset_id: str = ""
    proxy: Path = Path()
    proxy_note: str = ""


@dataclass
class Timings:
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, call: Callable[[], int]) -> None:
        t0 = time.perf_counter()
        try:
            size = call()
        except Exception as exc:  # record and go on: one bad answer must not hide the rest
            self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            return
        self.latencies.append(time.perf_counter() - t0)
        self.sizes.append(size)


# --- inputs -------------------------------------------------------------------------------


def make_input(name: str) -> Path:
    def command(tmp: Path) -> list[str]:
        if name.endswith("_rot90.mp4"):  # the first clip with a phone's display matrix
            tmp.write_bytes(make_input(CLIPS[0][1]).read_bytes())
            return ["exiftool", "-q", "-overwrite_original", "-Rotation=90", str(tmp)]
        return [*FFMPEG, *SOURCE, *H264, "-shortest", str(tmp)]

    return cached_clip(name, command)


def keyframe_spacing(path: Path) -> float:
    """Longest gap between keyframes of the first video stream, in seconds: a seek decodes
    up to this much video before the frame it wants."""
    result = process.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=pts_time,flags", "-of", "csv=p=0", str(path)],
        60,
    )  # fmt: skip
    keys = sorted(float(t) for t, flags in _csv_pairs(result.stdout) if "K" in flags)
    if not keys:
        return float("nan")
    return max([b - a for a, b in itertools.pairwise(keys)] + [DURATION - keys[-1]])


def _csv_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) >= 2 and parts[0] not in ("", "N/A"):
            pairs.append((parts[0], parts[1]))
    return pairs


def seek_times(count: int, offset: int, duration: float) -> list[float]:
    """`count` distinct `t` spread over the clip (golden-ratio steps, ms resolution), so
    every request is a new canonical render and the seek distances vary like real ones."""
    span = duration - 0.2  # the last frame starts 40 ms before the end: keep clear of it
    return [round(0.05 + ((offset + i + 1) * 0.6180339887) % 1 * span, 3) for i in range(count)]


# --- the three paths ----------------------------------------------------------------------


def floor_once(proxy: Path, t: float, fmt: str, work: Path) -> int:
    out = work / f"floor.{fmt}"
    args = [*FFMPEG, "-ss", f"{t:.3f}", "-i", str(proxy), "-frames:v", "1",
            "-vf", f"scale={WIDTH}:-2", *FLOOR_CODEC[fmt], str(out)]  # fmt: skip
    result = process.run(args, TIMEOUT)
    data = out.read_bytes() if out.exists() else b""
    if result.returncode or imaging.sniff_format(data) != fmt:
        raise RuntimeError(f"floor ffmpeg exited {result.returncode}: {result.stderr[-300:]}")
    out.unlink()
    return len(data)


def steps_once(proxy: Path, t: float, fmt: str, work: Path) -> int:
    """What delivery does for the frame, minus HTTP, params, manifest and gate."""
    frame = media.frame_at(proxy, t, work / "frame.jpg", timeout=TIMEOUT)
    image = pyvips.Image.thumbnail(str(frame), WIDTH, height=10_000_000)
    return len(imaging.encode(image, fmt))  # type: ignore[arg-type]


def http_once(client: httpx.Client, asset_id: str, t: float, fmt: str, etags: dict) -> int:
    resp = client.get(f"/render/{asset_id}", params=query(t, fmt))
    if resp.status_code != 200:
        raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")
    if imaging.sniff_format(resp.content) != fmt:
        raise RuntimeError(f"not {fmt} ({resp.headers.get('content-type')})")
    etags[t] = resp.headers["etag"]  # for the 304s afterwards
    return len(resp.content)


def query(t: float, fmt: str) -> dict[str, Any]:
    return {"t": t, "wd": WIDTH} | ({} if fmt == "jpeg" else {"fm": fmt})


def stored_once(client: httpx.Client, asset_id: str, t: float, fmt: str) -> int:
    """A repeat of a rendered URL with the result store on: 302 to it, then its bytes."""
    resp = client.get(f"/render/{asset_id}", params=query(t, fmt))
    if resp.status_code != 302:
        raise RuntimeError(f"expected 302 from the result store, got {resp.status_code}")
    body = client.get(resp.headers["location"])
    if body.status_code != 200 or imaging.sniff_format(body.content) != fmt:
        raise RuntimeError(f"stored render answered {body.status_code}")
    return len(body.content)


def revalidate_once(client: httpx.Client, asset_id: str, t: float, fmt: str, etag: str) -> int:
    resp = client.get(f"/render/{asset_id}", params=query(t, fmt),
                      headers={"If-None-Match": etag})  # fmt: skip
    if resp.status_code != 304:
        raise RuntimeError(f"expected 304, got {resp.status_code}")
    return 0


# --- checks -------------------------------------------------------------------------------


def check_render(server: Server, clip: Clip, proxy_size: tuple[int, int]) -> str:
    """One request checked like a user would: 200, JPEG, 640 wide, the aspect of the
    displayed video, and the same picture as ffmpeg's frame of the proxy at that t."""
    t = 3.3
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        resp = client.get(f"/render/{clip.asset_id}", params=query(t, "jpeg"))
    if resp.status_code != 200:
        raise RuntimeError(f"render answered {resp.status_code}: {resp.text[:300]}")
    image = pyvips.Image.new_from_buffer(resp.content, "")
    height = round(WIDTH * proxy_size[1] / proxy_size[0])
    if image.width != WIDTH or abs(image.height - height) > 1:
        raise RuntimeError(f"render is {image.width}x{image.height}, expected {WIDTH}x{height}")
    with tempfile.TemporaryDirectory(prefix="picsha-bench-") as tmp:
        frame = media.frame_at(clip.proxy, t, Path(tmp) / "frame.jpg", timeout=TIMEOUT)
        ref = pyvips.Image.thumbnail(str(frame), WIDTH, height=10_000_000)
        same_size = (ref.width, ref.height) == (image.width, image.height)
        diff = float((image.cast("float") - ref.cast("float")).abs().avg()) if same_size else 99
    if diff > 4:
        raise RuntimeError(f"render differs from ffmpeg's frame at {t} s (mean |Δ| {diff:.1f})")
    return f"{image.width}x{image.height} JPEG, {len(resp.content)} bytes, mean |Δ| {diff:.2f}"


def ingest(api: httpx.Client, server: Server, clip: Clip) -> tuple[int, int]:
    """Upload and wait for `ready`; returns the proxy's size and fills in where it is."""
    clip.asset_id = upload(api, clip.path, pre_render_sizes=False)
    t0 = time.perf_counter()
    manifest = wait_ready(api, clip.asset_id, interval=0.1, timeout=600).manifest
    took = time.perf_counter() - t0
    proxy = (manifest.get("derivatives") or {}).get("proxy_video")
    if not proxy:
        raise SystemExit(f"{clip.path.name}: no proxy_video in the manifest")
    clip.proxy = server.data_dir / "objects" / proxy["key"]
    if not clip.proxy.is_file():
        raise SystemExit(f"{clip.proxy} is missing")
    size = (int(proxy["width"]), int(proxy["height"]))
    gops = f"keyframes ≤ {keyframe_spacing(clip.path):.2f} s apart in the original, "
    gops += f"≤ {keyframe_spacing(clip.proxy):.2f} s in the proxy"
    clip.proxy_note = (f"ready in {took:.1f} s; proxy {size[0]}x{size[1]}, "
                       f"{clip.proxy.stat().st_size / 1e6:.1f} MB; {gops}")  # fmt: skip
    return size


@dataclass
class Measured:
    rows: list[list[object]]
    ratios: list[object]
    cached: list[object]
    errors: list[str]


def measure(
    clip: Clip, fmt: str, client: httpx.Client, work: Path, load: OtherLoad,
    times: list[float], warmup: list[float],
) -> Measured:  # fmt: skip
    """The three paths for every `t` (order rotating), then the cached repeats."""
    etags: dict[float, str] = {}
    calls: dict[str, Callable[[float], int]] = {
        "floor": lambda t: floor_once(clip.proxy, t, fmt, work),
        "steps": lambda t: steps_once(clip.proxy, t, fmt, work),
        "http": lambda t: http_once(client, clip.asset_id, t, fmt, etags),
    }
    for t in warmup:  # page cache, first exec of ffmpeg, the server's first frame
        for call in calls.values():
            Timings().add(lambda call=call, t=t: call(t))
    results = {path: Timings() for path in PATHS}
    load.start()
    for i, t in enumerate(times):
        # Rotate the order, so a background job that comes and goes hits every path alike.
        for path in PATHS[i % 3 :] + PATHS[: i % 3]:
            results[path].add(lambda path=path, t=t: calls[path](t))
    other = load.cores()
    name = f"{clip.label} → {fmt}"
    rows: list[list[object]] = []
    errors: list[str] = []
    for path in PATHS:
        r = results[path]
        rows.append([name, LABELS[path], len(r.latencies), ms(percentile(r.latencies, 50)),
                     ms(percentile(r.latencies, 95)),
                     f"{statistics.median(r.sizes) / 1000:.1f}" if r.sizes else "-",
                     len(r.errors), f"{other:.2f}"])  # fmt: skip
        errors += r.errors
    floor, steps, http = (results[p].latencies for p in PATHS)
    ratios = [name, *_ratios(http, floor), *_ratios(http, steps),
              ms(percentile(http, 50) - percentile(floor, 50))]  # fmt: skip

    stored, revalidated = Timings(), Timings()
    for t, etag in etags.items():  # the URLs /render answered above, now repeated
        stored.add(lambda t=t: stored_once(client, clip.asset_id, t, fmt))
        revalidated.add(lambda t=t, etag=etag: revalidate_once(client, clip.asset_id, t, fmt, etag))
    cached = [name, ms(percentile(stored.latencies, 50)), ms(percentile(stored.latencies, 95)),
              ms(percentile(revalidated.latencies, 50)),
              ms(percentile(revalidated.latencies, 95))]  # fmt: skip
    return Measured(rows, ratios, cached, errors + stored.errors + revalidated.errors)


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="timed t per clip and format")
    parser.add_argument("--warmup", type=int, default=3, help="untimed t per clip and format")
    parser.add_argument("--quick", action="store_true", help="short run (6 t, 1 warm-up)")
    add_server_options(parser)
    args = parser.parse_args()
    total = 6 if args.quick else max(1, args.requests)
    warmup = seek_times(1 if args.quick else max(0, args.warmup), 1000, DURATION)
    times = seek_times(total, 0, DURATION)

    pyvips.cache_set_max(0)  # as the delivery app: no cached pixels between calls
    clips = [Clip(label, make_input(name)) for label, name in CLIPS]
    # Repeats of a URL are answered from the result store (the server-side cache hit);
    # with it on, a first render also writes its ~20-60 kB result there.
    os.environ["PICSHA_RENDER_RESULT_STORE"] = "true"
    idle = wait_for_quiet(args.wait_quiet)
    console.print(f"[bold]frame render bench[/] · {machine_line()} · other load {idle:.2f} cores")
    console.print(f"{total} timed t per clip and format ({len(warmup)} warm-up), {WIDTH} px wide")

    rows, ratio_rows, cache_rows, errors = [], [], [], []
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(running_server(workers=args.workers))
        api = stack.enter_context(api_client(server, timeout=TIMEOUT))
        client = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=TIMEOUT))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="picsha-bench-")))
        for clip in clips:
            size = ingest(api, server, clip)
            console.print(f"{clip.label}: {clip.proxy_note}")
            console.print(f"  render check: {check_render(server, clip, size)}")
        load = OtherLoad(server.proc.pid, children=True)  # ffmpeg runs are ours too

        for clip in clips:
            for fmt in FORMATS:
                row = measure(clip, fmt, client, work, load, times, warmup)
                rows += row.rows
                ratio_rows.append(row.ratios)
                cache_rows.append(row.cached)
                errors += row.errors
        server_problems = server.log_grep(*SERVER_TROUBLE)

    print_table(
        f"Frame at t, {WIDTH} px wide, {total} distinct t per row (uncached)",
        ["clip → format", "path", "n", "p50 ms", "p95 ms", "kB", "errors", "other load"],
        rows,
        caption="other load = cores busy with processes not ours (should be ~0)",
    )
    print_table(
        "GET /render ÷ floor (ms ratio, 1.0 = no overhead over ffmpeg alone)",
        ["clip → format", "÷ floor p50", "÷ floor p95", "÷ steps p50", "÷ steps p95",
         "p50 overhead ms"],
        ratio_rows,
    )  # fmt: skip
    print_table(
        "Repeats of the same URLs (cached)",
        ["clip → format", "result store p50", "p95", "304 p50", "p95"],
        cache_rows,
        caption="result store = 302 + GET of the stored render; 304 = If-None-Match",
    )
    for line in sorted(set(errors))[:10]:
        console.print(f"[red]error:[/] {line}")
    for line in server_problems[:10]:
        console.print(f"[yellow]server log:[/] {line}")
    return 1 if errors else 0


def _ratios(a: list[float], b: list[float]) -> list[str]:
    return [f"{percentile(a, q) / percentile(b, q):.2f}" if a and b else "-" for q in (50, 95)]


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; server stopped")
        raise SystemExit(130) from None
