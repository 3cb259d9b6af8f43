"""Delivery throughput: `GET /render` over HTTP against the in-process libvips floor.

    .venv/bin/python bench/render.py [--requests 60] [--quick]

(a) floor: `pyvips.Image.thumbnail` of a 12 MP JPEG to 500x500 (centre crop) and WebP Q80,
    in this process, sequentially and from 2 threads;
(b) the same through `GET /render/{id}?wd=500&ht=500&crop=true&fm=webp` on a fresh
    `picsha serve` at concurrency 1 and 2 (one keep-alive httpx.Client per thread).
Ratio = (b) req/s / (a) req/s at the same concurrency; the target is >= 0.8.
"""

from __future__ import annotations

from shared.libvips import use_bundled

use_bundled()  # before pyvips loads: the floor runs on the libvips `picsha serve` gives /render

import argparse
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyvips
from common import (
    SERVER_TROUBLE,
    OtherLoad,
    Server,
    add_server_options,
    api_client,
    console,
    machine_line,
    make_test_jpeg,
    median,
    ms,
    percentile,
    print_table,
    running_server,
    upload,
    wait_for_quiet,
    wait_ready,
)

from shared.imaging import KEEP_NONE

SIDE = 500
QUERY = {"wd": SIDE, "ht": SIDE, "crop": "true", "fm": "webp"}
RUN_TIMEOUT = 300.0  # seconds; no measured batch may run longer than this
CONCURRENCIES = (1, 2)
LABELS = {"floor": "floor (in-process)", "http": "GET /render (HTTP)"}


@dataclass
class Result:
    label: str
    concurrency: int
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    other_load: float = 0.0  # cores used by processes that are not ours, on average

    def merge(self, other: Result) -> None:
        weighted = self.other_load * self.wall + other.other_load * other.wall
        self.wall += other.wall
        self.other_load = weighted / self.wall if self.wall else 0.0
        self.latencies += other.latencies
        self.errors += other.errors

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def floor_once(path: Path) -> bytes:
    """What the app's render must do at minimum: shrink-on-load, crop, encode, strip."""
    image = pyvips.Image.thumbnail(str(path), SIDE, height=SIDE, crop="centre")
    return image.webpsave_buffer(Q=80, **KEEP_NONE)


def run_parallel(
    label: str,
    concurrency: int,
    total: int,
    make_worker: Callable[[int], Callable[[], None]],
    load: OtherLoad | None = None,
) -> Result:
    """`total` calls shared by `concurrency` threads; thread i calls `make_worker(i)`."""
    result = Result(label, concurrency)
    lock = threading.Lock()
    remaining = [total]
    deadline = time.monotonic() + RUN_TIMEOUT
    start = threading.Barrier(concurrency + 1)
    stop = threading.Event()  # set on Ctrl-C so threads stop before the server goes

    def loop(index: int) -> None:
        call = make_worker(index)
        start.wait()
        while time.monotonic() < deadline and not stop.is_set():
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            t0 = time.perf_counter()
            try:
                call()
            except Exception as exc:  # record and go on: one bad answer must not hide the rest
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                result.latencies.append(elapsed)

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    start.wait()
    if load:
        load.start()
    t0 = time.perf_counter()
    try:
        for t in threads:
            t.join(RUN_TIMEOUT + 30)
    except BaseException:
        stop.set()
        raise
    result.wall = time.perf_counter() - t0
    result.other_load = load.cores() if load else 0.0
    if remaining[0] > 0:
        result.errors.append(f"time limit hit with {remaining[0]} calls not made")
    return result


def split(total: int, rounds: int) -> list[int]:
    """`total` calls in `rounds` near-equal batches (no empty ones)."""
    rounds = max(1, min(rounds, total))
    return [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]


def floor_worker(path: Path) -> Callable[[], None]:
    def call() -> None:
        floor_once(path)

    return call


def http_worker(client: httpx.Client, asset_id: str) -> Callable[[], None]:
    url = f"/render/{asset_id}"

    def call() -> None:
        resp = client.get(url, params=QUERY)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")
        if resp.content[:4] != b"RIFF" or resp.content[8:12] != b"WEBP":
            raise RuntimeError(f"not WebP ({resp.headers.get('content-type')})")

    return call


def check_render(server: Server, asset_id: str) -> str:
    """One request checked like a user would: 200, WebP, 500x500, headers."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        resp = client.get(f"/render/{asset_id}", params=QUERY)
    if resp.status_code != 200:
        raise RuntimeError(f"render answered {resp.status_code}: {resp.text[:300]}")
    image = pyvips.Image.new_from_buffer(resp.content, "")
    if (image.width, image.height) != (SIDE, SIDE):
        raise RuntimeError(f"render is {image.width}x{image.height}, expected {SIDE}x{SIDE}")
    loader = image.get("vips-loader")
    return f"{loader} {image.width}x{image.height}, {len(resp.content)} bytes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="timed calls per phase")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls before each phase")
    parser.add_argument(
        "--rounds", type=int, default=6, help="floor/HTTP alternations per concurrency level"
    )
    parser.add_argument("--quick", action="store_true", help="short run (15 calls, 2 warm-up)")
    add_server_options(parser)
    args = parser.parse_args()
    total = 15 if args.quick else max(1, args.requests)
    warmup = 2 if args.quick else max(0, args.warmup)
    rounds = 3 if args.quick else max(1, args.rounds)

    # The app disables the libvips operation cache too; without this the floor would
    # return cached pixels after the first call and measure nothing.
    pyvips.cache_set_max(0)
    path = make_test_jpeg()
    idle = wait_for_quiet(args.wait_quiet)
    console.print(f"[bold]render bench[/] · {machine_line()} · other load {idle:.2f} cores")
    console.print(f"input {path.name} ({path.stat().st_size / 1e6:.1f} MB) · {total} timed calls")

    with contextlib.ExitStack() as stack:
        server = stack.enter_context(running_server(workers=args.workers))
        api = stack.enter_context(api_client(server))
        # One keep-alive client per thread slot, kept across batches like a real client's pool.
        clients = [
            stack.enter_context(httpx.Client(base_url=server.base_url, timeout=30))
            for _ in range(max(CONCURRENCIES))
        ]
        asset_id = upload(api, path, pre_render_sizes=False)
        wait_ready(api, asset_id)
        console.print(f"asset {asset_id} ready; render check: {check_render(server, asset_id)}")
        floor_bytes = len(floor_once(path))
        console.print(f"floor output: {floor_bytes} bytes")

        load = OtherLoad(server.proc.pid)
        makers: dict[str, Callable[[int], Callable[[], None]]] = {
            "floor": lambda i: floor_worker(path),
            "http": lambda i: http_worker(clients[i], asset_id),
        }
        results = {(kind, c): Result(LABELS[kind], c) for kind in makers for c in CONCURRENCIES}
        for concurrency in CONCURRENCIES:
            for make in makers.values():
                run_parallel("warm-up", concurrency, warmup, make)
            # Floor and HTTP alternate in small batches, so a background job that comes and
            # goes slows both sides alike instead of skewing the ratio.
            for r, batch in enumerate(split(total, rounds)):
                for kind in ("floor", "http") if r % 2 == 0 else ("http", "floor"):
                    part = run_parallel(LABELS[kind], concurrency, batch, makers[kind], load)
                    results[kind, concurrency].merge(part)
        server_problems = server.log_grep(*SERVER_TROUBLE)

    rows = []
    for (_, concurrency), r in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lat = r.latencies
        rows.append(
            [
                r.label,
                concurrency,
                len(lat),
                f"{r.rps:.2f}",
                ms(percentile(lat, 50)),
                ms(percentile(lat, 99)),
                len(r.errors),
                f"{r.other_load:.2f}",
            ]
        )
    print_table(
        "500x500 WebP from a 12 MP JPEG",
        ["path", "conc.", "requests", "req/s", "p50 ms", "p99 ms", "errors", "other load"],
        rows,
        caption="other load = cores busy with processes not ours (should be ~0)",
    )
    ratio_rows = []
    for concurrency in CONCURRENCIES:
        floor, http = results["floor", concurrency], results["http", concurrency]
        ratio = http.rps / floor.rps if floor.rps else float("nan")
        overhead = median(http.latencies) - median(floor.latencies)
        verdict = "[green]meets[/]" if ratio >= 0.8 else "[red]below[/]"
        ratio_rows.append([concurrency, f"{ratio:.2f}", f"{ms(overhead)}", verdict])
    print_table(
        "HTTP / floor (throughput ratio, target >= 0.80)",
        ["concurrency", "ratio", "p50 overhead ms", "target"],
        ratio_rows,
    )

    errors = [e for r in results.values() for e in r.errors]
    for line in sorted(set(errors))[:10]:
        console.print(f"[red]error:[/] {line}")
    for line in server_problems[:10]:
        console.print(f"[yellow]server log:[/] {line}")
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; server stopped")
        raise SystemExit(130) from None
