"""Shared helpers for the benchmarks: test image, a `picsha serve` under our control, stats.

Benchmarks only ever talk to 127.0.0.1, bound every loop by count and time, and kill the
server's whole process group (uvicorn + the Celery worker and its pool) on any exit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyvips
from rich.console import Console
from rich.table import Table

from shared import libvips
from shared.imaging import strip_metadata

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"  # git-ignored cache for generated inputs
REPO = BENCH_DIR.parent
CORPUS_PHOTO = REPO.parent / "shared" / "corpus" / "jpeg" / "progressive_canon_eos6d.jpg"
API_KEY = "benchkey"
HOST = "127.0.0.1"  # never anything else
# Server log lines worth reporting after a run: 5xx answers, tracebacks, Celery errors.
SERVER_TROUBLE = ('HTTP/1.1" 5', "Traceback", "ERROR/", "CRITICAL/")

# Wide enough that the tables do not wrap when output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 120)


# --- test input -------------------------------------------------------------------------


def make_test_jpeg(width: int = 4000, height: int = 3000, quality: int = 90) -> Path:
    """A ~12 MP baseline JPEG that compresses like a camera photo (cached in bench/out/).

    A real photo upscaled is smooth and would encode far too small; mild luma noise brings
    the entropy (and so the decode cost) back to camera-like levels, ~3 MB at Q90.
    No ICC profile and orientation 1, so the floor and the app do the same colour work.
    """
    source = "corpus" if CORPUS_PHOTO.exists() else "synthetic"
    path = OUT_DIR / f"photo_{width}x{height}_q{quality}_{source}.jpg"
    if path.exists():
        return path
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    image = _photo(width, height).cast("uchar").copy(interpretation="srgb")
    for name in ("icc-profile-data", "orientation", "exif-ifd0-Orientation"):
        if name in image.get_fields():  # keep the camera EXIF, like a real upload
            image = image.copy()
            image.remove(name)
    tmp = path.with_suffix(".tmp.jpg")
    image.jpegsave(str(tmp), Q=quality, interlace=False)  # baseline, like a camera
    tmp.replace(path)  # atomic: a half-written cache file is never reused
    return path


def make_test_png_alpha(width: int = 2400, height: int = 1600) -> Path:
    """A ~4 MP RGBA PNG: the photo of `make_test_jpeg` with a diagonal alpha gradient.

    Same content recipe (corpus photo upscaled with lanczos3 + luma noise sigma 5), alpha
    falling from 255 at the top-left corner to 0 at the bottom-right; zlib level 6, no ICC.
    """
    source = "corpus" if CORPUS_PHOTO.exists() else "synthetic"
    path = OUT_DIR / f"photo_{width}x{height}_rgba_{source}.png"
    if path.exists():
        return path
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    xy = pyvips.Image.xyz(width, height)
    alpha = 255 - (xy[0] + xy[1]) * (255 / (width + height - 2))
    image = _photo(width, height).bandjoin(alpha).cast("uchar").copy(interpretation="srgb")
    image = strip_metadata(image)
    tmp = path.with_suffix(".tmp.png")
    image.pngsave(str(tmp), compression=6)
    tmp.replace(path)
    return path


def _photo(width: int, height: int) -> pyvips.Image:
    """The shared recipe: corpus photo upscaled (lanczos3) + luma noise sigma 5, as float."""
    if CORPUS_PHOTO.exists():
        photo = pyvips.Image.new_from_file(str(CORPUS_PHOTO), access="sequential")
        base = photo.resize(width / photo.width, vscale=height / photo.height, kernel="lanczos3")
    else:
        base = _synthetic(width, height)
    return base + pyvips.Image.gaussnoise(width, height, sigma=5, mean=0)


def _synthetic(width: int, height: int) -> pyvips.Image:
    """Colourful gradients with some structure, for machines without the corpus."""
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    r = x * (255 / width)
    g = y * (255 / height)
    b = ((x / 37).sin() * (y / 53).cos() + 1) * 127  # libvips sin/cos take degrees
    return r.bandjoin([g, b])


# --- the server under test ----------------------------------------------------------------


def add_server_options(parser: argparse.ArgumentParser, wait_quiet: float = 60) -> None:
    """--workers and --wait-quiet, as every script that starts `picsha serve` takes them."""
    parser.add_argument("--workers", type=int, default=2, help="Celery workers of the server")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=wait_quiet,
        metavar="S",
        help="wait up to S seconds for other processes to go idle first",
    )


def cached_clip(name: str, make: Callable[[Path], Sequence[str | Path]]) -> Path:
    """OUT_DIR/name, made once by the command `make(tmp)` returns (writing to tmp) and
    kept for later runs; moved into place only when whole, so a failed run is redone."""
    from shared import process

    path = OUT_DIR / name
    if path.exists():
        return path
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.tmp{path.suffix}")
    result = process.run(make(tmp), 600)
    if result.returncode:
        tmp.unlink(missing_ok=True)
        raise SystemExit(f"could not make {name}: {result.stderr}")
    tmp.replace(path)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base_url: str
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_grep(self, *needles: str) -> list[str]:
        """Log lines mentioning any needle (tracebacks, 5xx) to report after a run."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [ln for ln in text.splitlines() if any(n in ln for n in needles)]


def _picsha_exe() -> str:
    exe = Path(sys.executable).with_name("picsha")
    return str(exe) if exe.exists() else "picsha"


@contextlib.contextmanager
def running_server(workers: int = 2, startup_timeout: float = 60) -> Iterator[Server]:
    """`picsha serve` on a free 127.0.0.1 port with a throwaway data dir; always torn down."""
    tmp = Path(tempfile.mkdtemp(prefix="picsha-bench-"))
    data_dir, log_path = tmp / "data", tmp / "server.log"
    port = free_port()
    # AI analysis would compete with the measured work for the same two cores.
    env = dict(os.environ, PICSHA_API_KEYS=API_KEY, PICSHA_DATA_DIR=str(data_dir))
    env.setdefault("PICSHA_ANALYSIS_ENABLED", "false")
    cmd = [_picsha_exe(), "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--data-dir", str(data_dir), "--workers", str(workers)]
    with open(log_path, "wb") as log:
        # Own session = own process group, so one killpg reaches the Celery worker too.
        # cwd=tmp: the embedded broker writes a `control/` folder into the working directory.
        proc = subprocess.Popen(
            cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(f"http://{HOST}:{port}", proc, data_dir, log_path)
    previous = signal.signal(signal.SIGTERM, _raise_exit)  # SIGTERM → finally below runs
    try:
        _wait_healthy(server, startup_timeout)
        yield server
    finally:
        stop_server(server)
        signal.signal(signal.SIGTERM, previous)
        if os.environ.get("PICSHA_BENCH_KEEP"):
            console.print(f"[dim]kept {tmp}[/]")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"picsha serve exited early:\n{server.log_tail()}")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"picsha serve not healthy after {timeout:.0f}s:\n{server.log_tail()}")


def stop_server(server: Server, grace: float = 15) -> None:
    """Stop the whole process group; never leaves a Celery process behind.

    SIGINT first, as a terminal's Ctrl-C would: `picsha serve` then stops its worker and
    Celery shuts down warm in a few seconds. (A group SIGTERM makes Celery respawn its
    killed pool children and linger ~20 s; a SIGTERM to `picsha serve` alone orphans the
    worker.) Whatever is left after the grace period gets SIGKILL, and so does everything
    at once if another signal arrives while we wait.
    """
    pgid = server.proc.pid  # session leader: its pid is the group id

    def hurry(signum: int, frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    previous = {sig: signal.signal(sig, hurry) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(grace)  # also reaps it, so the group can become empty
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _group_alive(pgid):
            time.sleep(0.1)  # the worker's pool children may still be exiting
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# --- API helpers --------------------------------------------------------------------------


def server_libvips(server: Server) -> str:
    """The libvips the server renders with, as its /healthz says (it may differ from ours)."""
    return httpx.get(f"{server.base_url}/healthz", timeout=10).json().get("libvips", "?")


def api_client(server: Server, timeout: float = 60) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"x-api-key": API_KEY}, timeout=timeout)


def upload(client: httpx.Client, path: Path, pre_render_sizes: bool) -> str:
    with path.open("rb") as fh:
        resp = client.post(
            "/v1/assets",
            files={"file": (path.name, fh, "image/jpeg")},
            data={"pre_render_sizes": "true" if pre_render_sizes else "false"},
        )
    if resp.status_code != 202:
        raise RuntimeError(f"upload answered {resp.status_code}: {resp.text[:300]}")
    return str(resp.json()["id"])


@dataclass
class Progress:
    """When the client first saw each status (time.time(), comparable with the manifest)."""

    manifest: dict[str, Any]
    first_seen: dict[str, float] = field(default_factory=dict)
    polls: int = 0


def wait_ready(
    client: httpx.Client, asset_id: str, interval: float = 0.02, timeout: float = 120
) -> Progress:
    progress = Progress(manifest={})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = client.get(f"/v1/assets/{asset_id}")
        progress.polls += 1
        if resp.status_code != 200:
            raise RuntimeError(f"GET manifest answered {resp.status_code}: {resp.text[:300]}")
        manifest = resp.json()
        status = manifest["status"]
        progress.first_seen.setdefault(status, time.time())
        progress.manifest = manifest
        if status == "ready":
            return progress
        if status == "failed":
            raise RuntimeError(f"asset {asset_id} failed: {manifest.get('error')}")
        time.sleep(interval)
    raise TimeoutError(f"asset {asset_id} not ready after {timeout:.0f}s")


# --- other load on the machine ------------------------------------------------------------


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


def _own_seconds(pgids: set[int], children: bool = False) -> float:
    """CPU seconds of this process and of every live process in the given groups; with
    `children`, also of their exited and reaped children (ffmpeg runs in its own session,
    so it is in none of our groups, but its time lands in its parent's cutime/cstime)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited while we looked
        fields = text[text.rindex(")") + 2 :].split()
        pid, pgid = int(stat.parent.name), int(fields[2])
        if pid == os.getpid() or pgid in pgids:
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
            if children:
                total += (int(fields[13]) + int(fields[14])) / _CLK_TCK
    return total


class OtherLoad:
    """Average cores busy with processes that are not ours during a measured span.

    Benchmarks on a shared box are only comparable when this is near zero; printed with
    every result so a noisy run can be told from a slow app.
    """

    def __init__(self, *pgids: int, children: bool = False) -> None:
        self.pgids = set(pgids)
        self.children = children  # count reaped subprocesses (ffmpeg) as ours
        self.start()

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._busy0 = _busy_seconds()
        self._own0 = _own_seconds(self.pgids, self.children)

    def cores(self) -> float:
        wall = time.monotonic() - self._t0
        if wall <= 0:
            return 0.0
        own = _own_seconds(self.pgids, self.children) - self._own0
        other = (_busy_seconds() - self._busy0) - own
        return max(0.0, other / wall)


def wait_for_quiet(max_wait: float, threshold: float = 0.25) -> float:
    """Sample other load in 1 s windows until it is below `threshold` cores or time is up.

    Returns the last sample; warns when the box is still busy, as the figures will be too.
    """
    deadline = time.monotonic() + max(0.0, max_wait)
    while True:
        load = OtherLoad()
        time.sleep(1)
        cores = load.cores()
        if cores < threshold or time.monotonic() >= deadline:
            break
    if cores >= threshold:
        console.print(
            f"[yellow]warning:[/] other processes keep {cores:.2f} cores busy; "
            "figures will be low and noisy (see the other-load column)"
        )
    return cores


# --- numbers and tables -------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); p99 of few samples ≈ the max."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], caption: str = ""
) -> None:
    table = Table(title=title, caption=caption or None, title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console.print(table)


def machine_line() -> str:
    return f"{os.cpu_count()} CPUs · {libvips.describe()} · Python {sys.version.split()[0]}"


# --- memory of the server under test ------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root`, its descendants and its process group: `picsha serve` + Celery + pool."""
    parents: dict[int, int] = {}
    group: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited while we looked
        fields = text[text.rindex(")") + 2 :].split()
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        if int(fields[2]) == root:
            group.add(pid)
    found, todo = {root}, [root]
    while todo:  # descendants that may have left the group (setsid in a child)
        pid = todo.pop()
        children = [c for c, p in parents.items() if p == pid and c not in found]
        found.update(children)
        todo.extend(children)
    return sorted((found | group) & parents.keys())


def rss_bytes(pid: int) -> int:
    """Resident set size of one process from /proc (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def process_label(pid: int) -> str:
    """Short command line, e.g. `picsha serve` or `celery worker`, to tell processes apart."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [Path(a.decode(errors="replace")).name for a in argv if a]
    if "celery" in words:  # `python -m celery -A app worker …` and its forked pool children
        return "celery worker" if "worker" in words else "celery"
    if any(w.startswith("exiftool") for w in words):
        return "exiftool"  # `perl -w …/exiftool -stay_open True …`
    words = [w for w in words if not w.startswith(("python", "-"))]
    return " ".join(words[:2]) or "?"


def tree_rss(root: int) -> dict[int, int]:
    """RSS in bytes per live process of `process_tree(root)`."""
    return {pid: rss for pid in process_tree(root) if (rss := rss_bytes(pid))}
