"""Soak: `GET /render` at saturation for a fixed time; memory, latency drift and errors.

    .venv/bin/python bench/soak.py [--minutes 10] [--threads 8] [--quick]

Uploads a 12 MP JPEG, a 2 MP JPEG, an RGBA PNG and (when the corpus has it) an animated
GIF to a fresh `picsha serve` on 127.0.0.1, then `--threads` keep-alive clients send a
seeded random mix of render requests (sizes, fits, formats, filters, text, watermarks,
some unique sizes, some If-None-Match) for `--warmup` s untimed plus `--minutes`. More
clients than the server's render slots, so 503 + Retry-After answers are expected; a 5xx
other than 503, a dropped connection or a timeout is an error (exit code 1).
Prints server RSS (the whole process tree), p50/p99 and throughput per minute, counts by
status. Targets (issue 7): RSS growth < 10 %, 0 x 5xx other than the deliberate 503s.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import mimetypes
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import (
    REPO,
    SERVER_TROUBLE,
    OtherLoad,
    Server,
    add_server_options,
    api_client,
    console,
    machine_line,
    make_test_jpeg,
    make_test_png_alpha,
    ms,
    percentile,
    print_table,
    process_label,
    running_server,
    server_libvips,
    tree_rss,
    wait_for_quiet,
    wait_ready,
)

GIF = REPO.parent / "shared" / "corpus" / "gif" / "animated_cogs.gif"
SEED = 20261124
WINDOW = 60.0  # seconds per report row: drift shows as rows that get worse
MAX_MINUTES = 120.0  # hard bound on --minutes
REQUEST_TIMEOUT = 60.0  # a render slower than this counts as a hang
RSS_EVERY = 2.0  # seconds between RSS samples
RETRY_AFTER_CAP = 1.0  # seconds; honour Retry-After like a CDN would, but stay saturating
ERROR_SAMPLES = 20  # failing URLs kept per kind for the report
RSS_TARGET = 10.0  # % growth start -> end
BUCKETS = ("200", "302", "304", "4xx", "503", "5xx", "transport", "bad body")

POPULAR = (50, 100, 150, 200, 300, 400, 480, 600, 640, 800, 1024, 1200)
UNIQUE_SHARE = 0.3  # sizes drawn from 50..1200: new cache keys, not the same few renders
COMPASS = ("north", "south", "east", "west", "ne", "nw", "se", "sw", "center")
GRAVITY = (*COMPASS, "attention", "entropy", "face")
TEXTS = ("© Picsha 2026", "SOAK TEST", "Größe · naïve café — 東京", "sale -50 %", "a & b < c")
ACCEPTS = ("image/avif,image/webp,*/*", "image/webp,image/*,*/*;q=0.8", "*/*")


@dataclass(frozen=True)
class Asset:
    name: str
    id: str


@dataclass(frozen=True)
class Req:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class Record:
    done: float  # monotonic time the answer arrived
    latency: float  # seconds
    bucket: str


@dataclass
class Stats:
    """Everything the client threads learn; one lock, appended to, read by the main thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    records: list[Record] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=dict)  # bucket -> samples
    seen: list[tuple[Req, str]] = field(default_factory=list)  # (request, ETag) for 304s

    def add(self, record: Record, failure: str = "") -> None:
        with self.lock:
            self.records.append(record)
            if failure:
                samples = self.failures.setdefault(record.bucket, [])
                if len(samples) < ERROR_SAMPLES:
                    samples.append(failure)

    def remember(self, req: Req, etag: str) -> None:
        with self.lock:
            if len(self.seen) < 500:
                self.seen.append((req, etag))
            else:  # bounded: overwrite a random old one
                self.seen[hash(etag) % len(self.seen)] = (req, etag)

    def revisit(self, rng: random.Random) -> tuple[Req, str] | None:
        with self.lock:
            return rng.choice(self.seen) if self.seen else None

    def snapshot(self) -> list[Record]:
        with self.lock:
            return list(self.records)


# --- the request mix ------------------------------------------------------------------------


def side(rng: random.Random) -> int:
    return rng.randint(50, 1200) if rng.random() < UNIQUE_SHARE else rng.choice(POPULAR)


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def make_request(rng: random.Random, assets: list[Asset]) -> Req:
    """One random render URL; every parameter valid, so any 4xx is worth a look."""
    asset = rng.choices(assets, weights=[{"gif": 1, "png": 2}.get(a.name, 3) for a in assets])[0]
    p: dict[str, str] = {}
    headers: dict[str, str] = {}
    wd, ht = side(rng), side(rng)
    mode = pick(rng, {"crop": 2, "cover": 2, "contain": 1.5, "fill": 1, "inside": 2, "one": 2})
    if mode == "one":  # a single side keeps the aspect ratio
        p["wd" if rng.random() < 0.7 else "ht"] = str(wd)
    else:
        p |= {"wd": str(wd), "ht": str(ht)}
        if mode == "crop":
            p["crop"] = "true"
        elif mode != "inside" or rng.random() < 0.3:
            p["fit"] = mode
    if mode in ("crop", "cover") and rng.random() < 0.6:
        p["g"] = pick(rng, {g: (0.3 if g == "face" else 1) for g in GRAVITY})
    if mode == "contain" and rng.random() < 0.5:
        p["bg"] = rng.choice(("fff", "000000", "ff8800", "336699"))
    formats = {"webp": 3, "jpeg": 2, "png": 1, "avif": 1, "auto": 1.5, "": 1.5}
    if asset.name == "gif":
        formats |= {"gif": 3, "webp": 3}
    fm = pick(rng, formats)
    if fm:
        p["fm"] = fm
    if fm == "auto":
        headers["accept"] = rng.choice(ACCEPTS)
    if fm in ("jpeg", "webp", "avif", "auto") and rng.random() < 0.5:
        p["q"] = str(rng.randint(30, 95))
    if rng.random() < 0.25:
        # Keep the output under ~2400 px a side: 4K AVIF encodes would be a different test.
        dpr = rng.choice((1.5, 2, 3))
        if max(int(p.get("wd", 0)), int(p.get("ht", 0))) * dpr <= 2400:
            p["dpr"] = str(dpr)
    if rng.random() < 0.1:
        p["blur"] = f"{rng.uniform(0.5, 8):.1f}"
    if rng.random() < 0.1:
        p["sharpen"] = f"{rng.uniform(0.5, 3):.1f}"
    if rng.random() < 0.1:
        p["gray"] = "true"
    if rng.random() < 0.1:
        p["rot"] = rng.choice(("90", "180", "270"))
    if rng.random() < 0.1:
        p["flip"] = rng.choice(("h", "v"))
    if rng.random() < 0.05:
        p["up"] = "true"
    if rng.random() < 0.15:
        text = rng.choice(TEXTS)
        p["txt"] = f"{text} #{rng.randint(1, 10**6)}" if rng.random() < 0.3 else text
        p["txt_size"] = str(rng.randint(10, 72))
        p["txt_pos"] = rng.choice(COMPASS)
        p["txt_font"] = rng.choice(("sans", "serif", "mono"))
        if rng.random() < 0.5:
            p["txt_color"] = rng.choice(("000", "ffcc00", "ff0000"))
    if rng.random() < 0.12:
        marks = [a for a in assets if a.name in ("png", "jpeg2") and a.id != asset.id]
        if marks:
            p["wm"] = rng.choice(marks).id
            p["wm_pos"] = rng.choice(COMPASS)
            p["wm_scale"] = f"{rng.uniform(0.1, 0.5):.2f}"
            p["wm_opacity"] = f"{rng.uniform(0.3, 1):.2f}"
    return Req(f"/render/{asset.id}", p, headers)


# --- client threads -------------------------------------------------------------------------


def classify(status: int) -> str:
    if status in (200, 302, 304, 503):
        return str(status)
    if 400 <= status < 500:
        return "4xx"
    if status >= 500:
        return "5xx"
    return "transport"  # 1xx/other 2xx/3xx: not something /render should answer


def client_loop(
    index: int, server: Server, assets: list[Asset], stats: Stats, stop: threading.Event
) -> None:
    rng = random.Random(SEED + index)  # per thread: the mix is reproducible, not the order
    with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        while not stop.is_set():  # main thread sets `stop` at the deadline, always
            revisit = stats.revisit(rng) if rng.random() < 0.05 else None
            if revisit:  # a browser revalidating: expect 304
                req, etag = revisit
                req = Req(req.path, req.params, req.headers | {"if-none-match": etag})
            else:
                req = make_request(rng, assets)
            t0 = time.perf_counter()
            try:
                resp = client.get(req.path, params=req.params, headers=req.headers)
            except httpx.HTTPError as exc:
                url = client.build_request("GET", req.path, params=req.params).url
                elapsed = time.perf_counter() - t0
                stats.add(Record(time.monotonic(), elapsed, "transport"), f"{url} → {exc!r}")
                stop.wait(0.5)  # a dead server must not turn this into a busy loop
                continue
            elapsed = time.perf_counter() - t0
            bucket = classify(resp.status_code)
            failure = ""
            if bucket == "200":
                kind = resp.headers.get("content-type", "")
                if not resp.content or not kind.startswith("image/"):
                    bucket, failure = "bad body", f"{resp.url} → 200 {kind} {len(resp.content)} B"
                elif "etag" in resp.headers:
                    stats.remember(req, resp.headers["etag"])
            elif bucket not in ("302", "304", "503"):
                failure = f"{resp.url} → {resp.status_code} {resp.text[:400]!r}"
            stats.add(Record(time.monotonic(), elapsed, bucket), failure)
            if bucket == "503":
                try:
                    wait = float(resp.headers.get("retry-after", "1"))
                except ValueError:
                    wait = 1.0
                stop.wait(min(max(wait, 0.0), RETRY_AFTER_CAP))


# --- setup ------------------------------------------------------------------------------------


def upload_file(client: httpx.Client, path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    with path.open("rb") as fh:
        resp = client.post(
            "/v1/assets",
            files={"file": (path.name, fh, mime)},
            data={"pre_render_sizes": "false"},
        )
    if resp.status_code != 202:
        raise RuntimeError(f"upload of {path.name} answered {resp.status_code}: {resp.text[:300]}")
    return str(resp.json()["id"])


def upload_assets(server: Server) -> list[Asset]:
    files = {
        "jpeg12": make_test_jpeg(),
        "jpeg2": make_test_jpeg(1732, 1155),  # 2 MP
        "png": make_test_png_alpha(),
    }
    if GIF.exists():
        files["gif"] = GIF
    else:
        console.print(f"[yellow]no {GIF}; soaking without an animated GIF[/]")
    assets = []
    with api_client(server) as client:
        for name, path in files.items():
            asset_id = upload_file(client, path)
            wait_ready(client, asset_id, interval=0.1)
            assets.append(Asset(name, asset_id))
            console.print(
                f"  {name:7} {path.name} ({path.stat().st_size / 1e6:.2f} MB) → {asset_id}"
            )
    return assets


# --- report -----------------------------------------------------------------------------------


def mb(n: float) -> str:
    return f"{n / 2**20:.0f}"


def pct(new: float, old: float) -> str:
    return f"{(new - old) / old * 100:+.1f} %" if old else "n/a"


@dataclass
class Window:
    index: int
    records: list[Record]
    seconds: float
    rss: int  # median of the window's samples
    rss_max: int

    def row(self, rss0: int) -> list[object]:
        counts = Counter(r.bucket for r in self.records)
        served = [r.latency for r in self.records if r.bucket in ("200", "302")]
        every = [r.latency for r in self.records]
        errors = sum(counts[b] for b in ("4xx", "5xx", "transport", "bad body"))
        return [
            f"{self.index + 1}",
            len(self.records),
            f"{len(self.records) / self.seconds:.1f}",
            f"{len(served) / self.seconds:.2f}",
            counts["503"],
            errors,
            ms(percentile(served, 50)),
            ms(percentile(served, 99)),
            ms(percentile(every, 99)),
            mb(self.rss),
            pct(self.rss, rss0),
            mb(self.rss_max),
        ]


WINDOW_COLUMNS = (
    "min",
    "answers",
    "ans/s",
    "rendered/s",
    "503",
    "errors",
    "p50 ms",
    "p99 ms",
    "p99 all",
    "RSS MiB",
    "vs start",
    "RSS max",
)


def in_window(records: list[Record], t_start: float, t_end: float) -> list[Record]:
    return [r for r in records if t_start <= r.done < t_end]


def rss_total(server: Server) -> int:
    return sum(tree_rss(server.proc.pid).values())


def rss_by_process(server: Server) -> dict[str, int]:
    """RSS summed per command label (the Celery pool's children share one label)."""
    out: Counter[str] = Counter()
    for pid, rss in tree_rss(server.proc.pid).items():
        out[process_label(pid)] += rss
    return dict(out)


def sample_rss(server: Server, until: float) -> list[dict[str, int]]:
    """RSS per process label every RSS_EVERY s until `until` (monotonic)."""
    samples = []
    while (now := time.monotonic()) < until:
        if server.proc.poll() is not None:
            raise RuntimeError(f"picsha serve exited:\n{server.log_tail()}")
        time.sleep(min(RSS_EVERY, until - now))
        samples.append(rss_by_process(server))
    return samples or [rss_by_process(server)]


def typical(samples: list[dict[str, int]]) -> tuple[int, dict[str, int]]:
    """Median total RSS and median per process over samples.

    Under load RSS swings by hundreds of MB with what is being rendered at that instant
    (a 2400 px AVIF encode needs far more than a 100 px WebP); a leak moves the median,
    a big render in flight does not.
    """
    total = int(statistics.median(sum(s.values()) for s in samples))
    labels = {k for s in samples for k in s}
    return total, {k: int(statistics.median(s.get(k, 0) for s in samples)) for k in labels}


def soak(server: Server, assets: list[Asset], clients: int, warmup: float, minutes: float) -> int:
    stats, stop = Stats(), threading.Event()
    threads = [
        threading.Thread(target=client_loop, args=(i, server, assets, stats, stop), daemon=True)
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    windows: list[Window] = []
    peak = 0
    try:
        # Start memory: the median over the last third of the warm-up, load already on.
        stop.wait(warmup * 2 / 3)
        start_samples = sample_rss(server, time.monotonic() + warmup / 3)
        t0 = time.monotonic()  # measured span starts here
        load = OtherLoad(server.proc.pid)
        rss0, procs0 = typical(start_samples)
        peak = max(sum(s.values()) for s in start_samples)
        console.print(
            f"RSS at start (median of the last {warmup / 3:.0f} s of a {warmup:.0f} s warm-up, "
            f"under load): {mb(rss0)} MiB "
            + " · ".join(f"{k} {mb(v)}" for k, v in sorted(procs0.items()))
        )
        print_live_header()
        total = minutes * 60
        n_windows = max(1, math.ceil(total / WINDOW - 1e-9))
        last_samples = start_samples
        for w in range(n_windows):
            w_end = t0 + min((w + 1) * WINDOW, total)
            last_samples = sample_rss(server, w_end)
            rss, _ = typical(last_samples)
            top = max(sum(s.values()) for s in last_samples)
            peak = max(peak, top)
            recs = in_window(stats.snapshot(), w_end - min(WINDOW, total - w * WINDOW), w_end)
            window = Window(w, recs, min(WINDOW, total - w * WINDOW), rss, top)
            windows.append(window)
            console.print(live_line(window.row(rss0)))
        t_end = time.monotonic()
        rss_end, procs_end = typical(last_samples)
        other = load.cores()
    finally:
        stop.set()
        for t in threads:
            t.join(REQUEST_TIMEOUT + 5)
    time.sleep(5)  # load off: does memory come back?
    rss_idle = rss_total(server)

    records = stats.snapshot()
    late = [r for r in records if r.done >= t_end]
    measured = in_window(records, t0, t_end)
    counts_all = Counter(r.bucket for r in records)
    counts = Counter(r.bucket for r in measured)
    console.print()
    print_table(
        f"GET /render soak · {clients} clients · per {WINDOW:.0f} s window",
        WINDOW_COLUMNS,
        [w.row(rss0) for w in windows],
        caption="p50/p99: rendered answers (200 + 302); p99 all: every answer incl. 503/304; "
        f"RSS: median of {RSS_EVERY:.0f} s samples, max: the highest of them",
    )
    served = [r.latency for r in measured if r.bucket in ("200", "302")]
    span = t_end - t0
    first, last = windows[0], windows[-1]
    p99_first = percentile([r.latency for r in first.records if r.bucket in ("200", "302")], 99)
    p99_last = percentile([r.latency for r in last.records if r.bucket in ("200", "302")], 99)
    print_table(
        "overall (measured span)",
        ("figure", "value"),
        [
            ("span", f"{span:.0f} s (+{warmup:.0f} s warm-up; {len(late)} answers after the end)"),
            ("answers", f"{len(measured)} · {len(measured) / span:.1f}/s"),
            ("rendered (200 + 302)", f"{len(served)} · {len(served) / span:.2f}/s"),
            (
                "p50 / p99 rendered",
                f"{ms(percentile(served, 50))} / {ms(percentile(served, 99))} ms",
            ),
            ("p99 drift first → last window", f"{ms(p99_first)} → {ms(p99_last)} ms"),
            ("p99 all answers", f"{ms(percentile([r.latency for r in measured], 99))} ms"),
            ("other load", f"{other:.2f} cores"),
        ],
    )
    print_table(
        "answers by status (whole run incl. warm-up)",
        ("status", "measured", "whole run"),
        [(b, counts[b], counts_all[b]) for b in BUCKETS],
    )
    print_table(
        "server RSS (picsha serve + children, /proc VmRSS; start/end: medians of samples)",
        ("process", "start MiB", "end MiB", "growth"),
        [
            (k, mb(v), mb(procs_end.get(k, 0)), pct(procs_end.get(k, 0), v))
            for k, v in sorted(procs0.items())
        ]
        + [
            ("total", mb(rss0), mb(rss_end), pct(rss_end, rss0)),
            ("total peak (any sample)", "", mb(peak), pct(peak, rss0)),
            ("total 5 s after load stopped", "", mb(rss_idle), pct(rss_idle, rss0)),
        ],
    )

    bad_5xx = counts_all["5xx"]
    growth = (rss_end - rss0) / rss0 * 100 if rss0 else float("nan")
    ok = "[green]✓[/]"
    no = "[bold red]✗[/]"
    console.print(
        f"[bold]targets[/]: RSS growth {growth:+.1f} % (< {RSS_TARGET:.0f} %) "
        f"{ok if growth < RSS_TARGET else no} · 5xx other than 503: {bad_5xx} (0) "
        f"{ok if bad_5xx == 0 else no} · p99 drift {ms(p99_first)} → {ms(p99_last)} ms"
    )
    failed = False
    for bucket in ("5xx", "transport", "bad body", "4xx"):
        if not counts_all[bucket]:
            continue
        loud = bucket != "4xx"
        failed |= loud
        style = "bold red" if loud else "yellow"
        why = "" if loud else ", unexpected: every request in the mix is valid"
        console.print(f"[{style}]{counts_all[bucket]} x {bucket}[/] (first {ERROR_SAMPLES}{why}):")
        for line in stats.failures.get(bucket, []):
            console.print(f"  {line}", markup=False, highlight=False)
    trouble = [ln for ln in server.log_grep(*SERVER_TROUBLE) if '" 503' not in ln]
    if trouble:
        console.print(f"[bold red]server log: {len(trouble)} trouble lines[/] (first 30):")
        for line in trouble[:30]:
            console.print(f"  {line}", markup=False, highlight=False)
    return 1 if failed else 0


def live_line(cells: list[object] | tuple[str, ...]) -> str:
    """One row printed as each window closes, so a long run shows drift while it runs."""
    return " ".join(f"{c!s:>{max(len(h), 7)}}" for c, h in zip(cells, WINDOW_COLUMNS, strict=True))


def print_live_header() -> None:
    console.print(live_line(WINDOW_COLUMNS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="measured span (≤ 120)")
    parser.add_argument("--quick", action="store_true", help="1 minute, 15 s warm-up")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of unmeasured load")
    add_server_options(parser, wait_quiet=30)
    args = parser.parse_args()
    minutes = 1.0 if args.quick else min(max(args.minutes, 0.1), MAX_MINUTES)
    warmup = 15.0 if args.quick else min(max(args.warmup, 0.0), 600.0)
    args.threads = min(max(args.threads, 1), 64)

    idle = wait_for_quiet(args.wait_quiet)
    console.print(f"[bold]render soak[/] · {machine_line()} · other load {idle:.2f} cores")
    console.print(
        f"{args.threads} clients · {warmup:.0f} s warm-up + {minutes:g} min · seed {SEED}"
    )
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(running_server(workers=args.workers))
        console.print(
            f"server {server.base_url} (pid/pgid {server.proc.pid}) on "
            f"{server_libvips(server)} · uploading:"
        )
        assets = upload_assets(server)
        return soak(server, assets, args.threads, warmup, minutes)


if __name__ == "__main__":
    raise SystemExit(main())
