"""Picsha `GET /render` against thumbor and the in-process libvips floor (issues 8 and 17).

    .venv/bin/python bench/render_vs_thumbor.py [--requests 30] [--quick]

Five inputs (12, 2 and 50 MP JPEG, 4 and 24 MP RGBA PNG; `--inputs` picks some) x three
operations (500x500 crop to WebP, fit inside 500x500 to WebP, blur sigma 10 at 800 wide to
WebP) x concurrency 1 and 2, each done three ways in the same run:
  floor    pyvips.Image.thumbnail(...) [+ gaussblur] -> webpsave_buffer(Q=80), in-process;
  /render  a fresh `picsha serve` on 127.0.0.1 (bench/common.py);
  thumbor  thumbor from PyPI in its own virtualenv (bench/out/thumbor-venv, made on first
           run), bound to 127.0.0.1, file loader, storage and result storage off, Q80.
Per cell: req/s, p50, p99, server CPU ms per request, peak RSS; then /render / floor,
/render / thumbor and their geometric mean; and output quality (PSNR against a full-decode
lanczos3 resize) so that speed is compared at equal quality, next to what /render answers
from the original (the delivery code in-process), as it did before the pyramid (issue 17).
"""

from __future__ import annotations

from shared.libvips import use_bundled

use_bundled()  # before pyvips loads: the floor runs on the libvips `picsha serve` gives /render

import argparse
import contextlib
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyvips
from common import (
    HOST,
    OUT_DIR,
    SERVER_TROUBLE,
    OtherLoad,
    api_client,
    console,
    free_port,
    machine_line,
    make_test_jpeg,
    make_test_png_alpha,
    ms,
    percentile,
    print_table,
    running_server,
    server_libvips,
    wait_for_quiet,
    wait_ready,
)
from render import Result, run_parallel, split

from delivery import transform
from delivery.params import parse
from delivery.source import RenderSource
from delivery.transform import BLUR_OPTIONS
from shared import imaging
from shared.imaging import KEEP_NONE
from shared.settings import Settings

THUMBOR_VENV = OUT_DIR / "thumbor-venv"
THUMBOR_SPEC = "thumbor==7.8.0"  # pinned: figures stay comparable between runs
INSTALL_TIMEOUT = 900.0
CONCURRENCIES = (1, 2)
INPUTS = ("jpeg12", "jpeg2", "png4", "jpeg50", "png24")
KINDS = ("floor", "render", "thumbor")
LABELS = {"floor": "floor", "render": "/render", "thumbor": "thumbor"}
BLUR_SIGMA = 10
# thumbor's blur(radius, sigma) convolves with a gaussian of `sigma` cut off at `radius`
# pixels (sigma defaults to radius, so blur(10) stops at 1 sigma: a weaker, cheaper blur).
# Picsha's blur keeps the mask out to where it falls below 0.05 of its peak (BLUR_OPTIONS):
# radius 24 at sigma 10, so blur(24,10) asks thumbor for the same gaussian.
BLUR_RADIUS = pyvips.Image.gaussmat(BLUR_SIGMA, BLUR_OPTIONS["min_ampl"], separable=True).width // 2
# The quality reference: the exact gaussian (float, mask out to 0.1 % of the peak).
BLUR_REFERENCE_MIN_AMPL = 0.001
# Picsha and thumbor both answer WebP at Q80 with metadata stripped.
WEBP = {"Q": 80, **KEEP_NONE}


@dataclass(frozen=True)
class Input:
    key: str
    label: str
    path: Path
    mime: str


@dataclass(frozen=True)
class Op:
    key: str
    label: str
    query: dict[str, str | int]
    thumbor: str  # thumbor path before the image name
    floor: Callable[[str], pyvips.Image]


OPS = (
    Op(
        "crop",
        "500x500 crop",
        {"wd": 500, "ht": 500, "crop": "true", "fm": "webp"},
        "500x500/filters:format(webp)",
        lambda p: pyvips.Image.thumbnail(p, 500, height=500, crop="centre"),
    ),
    Op(
        "fit",
        "fit in 500",
        {"wd": 500, "ht": 500, "fm": "webp"},
        "fit-in/500x500/filters:format(webp)",
        lambda p: pyvips.Image.thumbnail(p, 500, height=500),
    ),
    Op(
        "blur",
        f"blur {BLUR_SIGMA} @800w",
        {"wd": 800, "blur": BLUR_SIGMA, "fm": "webp"},
        f"800x0/filters:blur({BLUR_RADIUS},{BLUR_SIGMA}):format(webp)",
        lambda p: pyvips.Image.thumbnail(p, 800).gaussblur(BLUR_SIGMA, **BLUR_OPTIONS),
    ),
)


# --- process accounting -------------------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system, all threads) of the live processes in a process group."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited while we looked
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
    return total


def pid_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of one process; 0 once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


class ServingLoad(OtherLoad):
    """Cores busy with anything but this process and the serving processes during a span.

    Unlike `OtherLoad(pgid)`, picsha's Celery worker (same process group as uvicorn, but no
    part of /render) counts as other load here: ingest or analysis work left running there
    takes cores from every path alike and must show up, not hide.
    """

    def __init__(self, pids: list[int], pgids: list[int]) -> None:
        self.pids, self.serving_groups = pids, pgids
        super().__init__()

    def _ours(self) -> float:
        own = time.process_time()
        return own + sum(map(pid_cpu, self.pids)) + sum(map(group_cpu, self.serving_groups))

    def start(self) -> None:
        self._t0, self._busy0, self._ours0 = time.monotonic(), machine_busy(), self._ours()

    def cores(self) -> float:
        wall = time.monotonic() - self._t0
        if wall <= 0:
            return 0.0
        other = (machine_busy() - self._busy0) - (self._ours() - self._ours0)
        return max(0.0, other / wall)


def _status_kb(pid: int, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss(pid: int) -> bool:
    """Start VmHWM afresh (Linux: "5" > clear_refs); False when not allowed here."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def group_rss_mb(pgid: int) -> float:
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[2]) == pgid:
            total += _status_kb(int(stat.parent.name), "VmRSS")
    return total / 1024


@dataclass
class Probe:
    """Where a path's work shows up: CPU clock to read, process whose peak RSS counts."""

    cpu: Callable[[], float]
    pid: int


@dataclass
class Cell:
    result: Result
    cpu: float = 0.0  # seconds of server CPU over the timed batches
    peak_rss_kb: int = 0
    first: bytes = b""  # one answer, for the dimension check


# --- thumbor ------------------------------------------------------------------------------


def ensure_thumbor(venv: Path, spec: str) -> tuple[Path | None, str]:
    """thumbor's executable and versions; installs it into its own venv on first use."""
    exe, py = venv / "bin" / "thumbor", venv / "bin" / "python"
    if not exe.exists():
        log = OUT_DIR / "thumbor-install.log"
        console.print(
            f"[bold]thumbor not installed yet:[/] creating {venv} and installing {spec} from "
            f"PyPI (benchmark only, not a project dependency; log: {log})"
        )
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(py), "-m", "pip", "install", "--disable-pip-version-check", spec],
        ]
        with open(log, "wb") as out:
            for step in steps:
                try:
                    subprocess.run(
                        step, stdout=out, stderr=subprocess.STDOUT, check=True,
                        timeout=INSTALL_TIMEOUT,
                    )  # fmt: skip
                except (subprocess.SubprocessError, OSError) as exc:
                    tail = log.read_text(errors="replace").strip().splitlines()[-15:]
                    return None, f"{' '.join(step[:4])} failed: {exc}\n" + "\n".join(tail)
    probe = subprocess.run(
        [str(py), "-c", "import importlib.metadata as m, PIL.features as f; "
         "print(m.version('thumbor'), m.version('Pillow'), f.version('webp'))"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if probe.returncode != 0:
        return None, f"thumbor venv broken: {probe.stderr.strip()[-500:]}"
    thumbor, pillow, webp = probe.stdout.split()
    return exe, f"thumbor {thumbor} · Pillow {pillow} · libwebp {webp}"


THUMBOR_CONF = """\
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {root!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = 'thumbor.result_storages.no_storage'
ENGINE = 'thumbor.engines.pil'
ENGINE_THREADPOOL_SIZE = {threads}
ALLOW_UNSAFE_URL = True
AUTO_WEBP = False
QUALITY = 80
WEBP_QUALITY = 80
PRESERVE_EXIF_INFO = False
RESPECT_ORIENTATION = False
DETECTORS = []
MAX_WAIT_SECONDS_BEFORE_SERVER_SHUTDOWN = 0
MAX_WAIT_SECONDS_BEFORE_IO_SHUTDOWN = 0
"""


@dataclass
class Thumbor:
    base_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log_grep(self, *needles: str) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [ln for ln in text.splitlines() if any(n in ln for n in needles)]


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def running_thumbor(exe: Path, images: list[Path], threads: int) -> Iterator[Thumbor]:
    """One thumbor process on a free 127.0.0.1 port, serving copies of `images`."""
    tmp = Path(tempfile.mkdtemp(prefix="thumbor-bench-"))
    root, conf, log_path = tmp / "images", tmp / "thumbor.conf", tmp / "thumbor.log"
    root.mkdir()
    for image in images:
        shutil.copyfile(image, root / image.name)
    conf.write_text(THUMBOR_CONF.format(root=str(root), threads=threads))
    port = free_port()
    # -i: thumbor binds 0.0.0.0 unless told otherwise.
    cmd = [str(exe), "-i", HOST, "-p", str(port), "-c", str(conf), "-l", "warning"]
    cmd += ["--processes", "1"]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Thumbor(f"http://{HOST}:{port}", proc, log_path)
    previous = signal.signal(signal.SIGTERM, _raise_exit)
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=server.base_url, timeout=2) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"thumbor exited early:\n{log_path.read_text()[-2000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/healthcheck").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("thumbor not healthy after 60 s")
                time.sleep(0.1)
        yield server
    finally:
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(wait)
                break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything the leader left behind
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(tmp, ignore_errors=True)


# --- requests -----------------------------------------------------------------------------


def upload_file(client: httpx.Client, path: Path, mime: str) -> str:
    with path.open("rb") as fh:
        resp = client.post(
            "/v1/assets",
            files={"file": (path.name, fh, mime)},
            data={"pre_render_sizes": "false"},
        )
    if resp.status_code != 202:
        raise RuntimeError(f"upload of {path.name} answered {resp.status_code}: {resp.text[:300]}")
    return str(resp.json()["id"])


def check_webp(resp: httpx.Response, url: str) -> bytes:
    if resp.status_code != 200:
        raise RuntimeError(f"GET {url} -> HTTP {resp.status_code}: {resp.text[:200]}")
    body = resp.content
    if body[:4] != b"RIFF" or body[8:12] != b"WEBP":
        raise RuntimeError(f"GET {url} -> not WebP ({resp.headers.get('content-type')})")
    return body


def http_call(client: httpx.Client, url: str, params: dict | None = None) -> Callable[[], bytes]:
    def call() -> bytes:
        return check_webp(client.get(url, params=params), url)

    return call


def floor_call(op: Op, path: Path) -> Callable[[], bytes]:
    def call() -> bytes:
        return op.floor(str(path)).webpsave_buffer(**WEBP)

    return call


def original_render(inp: Input, op: Op) -> bytes:
    """What /render answers when it reads the original, as before the pyramid: the delivery
    code in-process (same libvips as `picsha serve`'s delivery)."""
    head = pyvips.Image.new_from_file(str(inp.path))
    src = RenderSource("original", head.width, head.height, False, is_jpeg=inp.mime == "image/jpeg")
    params = parse([(k, str(v)) for k, v in op.query.items()])
    job = transform.Job(inp.path, src, params, transform.target_geometry(params, src, Settings()),
                        "webp")  # fmt: skip
    return imaging.encode(transform.render(job), "webp", params.q)


def render_url(asset_id: str, op: Op) -> str:
    return f"/render/{asset_id}?" + "&".join(f"{k}={v}" for k, v in op.query.items())


# --- quality ------------------------------------------------------------------------------


def _hq_resize(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Full-decode lanczos3 resize, no shrink-on-load and no box pre-shrink (gap=0)."""
    alpha = image.hasalpha()
    # In float: libvips' 8-bit lanczos at gap=0 truncates, and the reference came out up to
    # 0.8 grey levels darker than the source (12 MP JPEG at 1000 px, libvips 8.18).
    image = image.premultiply() if alpha else image.cast("float")
    out = image.resize(width / image.width, vscale=height / image.height, gap=0.0)
    if alpha:
        out = out.unpremultiply()
    return out


def references(op: Op, full: pyvips.Image, width: int, height: int) -> list[pyvips.Image]:
    """What an ideal renderer would answer at the candidate's own output size.

    A centre crop has two fair geometries, a third of a pixel apart: scale to cover then cut
    (libvips) or cut the source to the box's aspect then scale (thumbor); both are tried.
    """
    if op.key == "crop":
        scale = max(width / full.width, height / full.height)
        cover = _hq_resize(full, round(full.width * scale), round(full.height * scale))
        x, y = (cover.width - width) // 2, (cover.height - height) // 2
        cw = min(full.width, round(full.height * width / height))
        ch = min(full.height, round(full.width * height / width))
        cut = full.crop((full.width - cw) // 2, (full.height - ch) // 2, cw, ch)
        return [cover.crop(x, y, width, height), _hq_resize(cut, width, height)]
    out = _hq_resize(full, width, height)
    if op.key == "blur":
        out = out.cast("float").gaussblur(BLUR_SIGMA, min_ampl=BLUR_REFERENCE_MIN_AMPL)
    return [out]


def _as_array(image: pyvips.Image):
    import numpy as np

    image = image.cast("float") if image.format != "float" else image
    data = np.ndarray(
        buffer=image.write_to_memory(), dtype=np.float32,
        shape=(image.height, image.width, image.bands),
    )  # fmt: skip
    data = data.astype(np.float64)
    if image.hasalpha() or image.bands in (2, 4):
        a = data[..., -1:] / 255
        data = data[..., :-1] * a + 128 * (1 - a)  # what a viewer sees on mid-grey
    return data[..., :3]


def psnr(
    candidate: bytes, refs: list[pyvips.Image], border: int = 4, reach: int = 2
) -> tuple[float, str]:
    """PSNR (dB) of a decoded answer against the references, best over small integer shifts.

    Alpha is composited onto mid-grey on both sides; a `border` of pixels is left out (edge
    handling differs, most of all under a blur) and shifts up to `reach` px are tried, so a
    renderer is not punished for where it rounds a centre crop's offset. Returns the PSNR
    and the shift used.
    """
    import numpy as np

    cand = _as_array(pyvips.Image.new_from_buffer(candidate, ""))
    best, where = float("nan"), "size"
    for ref in refs:
        want = _as_array(ref)
        if cand.shape[:2] != want.shape[:2]:
            continue
        h, w = want.shape[:2]
        core = want[border : h - border, border : w - border]
        scores = {}
        for dy in range(-reach, reach + 1):
            for dx in range(-reach, reach + 1):
                part = cand[border + dy : h - border + dy, border + dx : w - border + dx]
                mse = float(np.mean((part - core) ** 2))
                scores[dx, dy] = 10 * math.log10(255**2 / mse) if mse > 0 else 99.0
        shift = max(scores, key=scores.__getitem__)
        if scores[shift] - scores[0, 0] < 0.25:  # a shift must earn its place
            shift = (0, 0)
        if not scores[shift] <= best:  # also true while best is nan
            best, where = scores[shift], f"{shift[0]:+d},{shift[1]:+d}"
    return best, where


def webp_chunks(body: bytes) -> dict[str, int]:
    """Bytes per RIFF chunk of a WebP: VP8/VP8L/ALPH are pixels, EXIF/XMP/ICCP metadata."""
    chunks: dict[str, int] = {}
    i = 12
    while i + 8 <= len(body):
        tag = body[i : i + 4].decode("latin-1").strip()
        size = int.from_bytes(body[i + 4 : i + 8], "little")
        chunks[tag] = chunks.get(tag, 0) + size
        i += 8 + size + (size & 1)
    return chunks


METADATA_CHUNKS = ("EXIF", "XMP", "ICCP")


def describe_metadata(body: bytes) -> str:
    chunks = webp_chunks(body)
    found = [f"{t} {chunks[t] / 1000:.1f}k" for t in METADATA_CHUNKS if t in chunks]
    return ", ".join(found) or "none"


def settle(max_wait: float, meter: Callable[[], OtherLoad], threshold: float = 0.25) -> float:
    """Wait (quietly) up to `max_wait` s for other processes to go idle; last sample."""
    deadline = time.monotonic() + max(0.0, max_wait)
    while True:
        load = meter()
        time.sleep(0.5)
        cores = load.cores()
        if cores < threshold or time.monotonic() >= deadline:
            return cores


# --- main ---------------------------------------------------------------------------------


def dims(body: bytes) -> str:
    image = pyvips.Image.new_from_buffer(body, "")
    return f"{image.width}x{image.height}" + ("a" if image.hasalpha() else "")


def fmt_ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="timed calls per cell and path")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per cell and path")
    parser.add_argument("--rounds", type=int, default=3, help="alternating batches per cell")
    parser.add_argument("--quick", action="store_true", help="short run (8 calls, 1 warm-up)")
    parser.add_argument("--workers", type=int, default=1, help="Celery workers of picsha serve")
    parser.add_argument(
        "--thumbor-threads", type=int, default=2,
        help="thumbor ENGINE_THREADPOOL_SIZE (0 = thumbor's default, all on the IOLoop)",
    )  # fmt: skip
    parser.add_argument("--thumbor-venv", type=Path, default=THUMBOR_VENV)
    parser.add_argument("--no-thumbor", action="store_true", help="floor and /render only")
    parser.add_argument(
        "--wait-quiet", type=float, default=60, metavar="S",
        help="wait up to S s for other processes to go idle before starting",
    )  # fmt: skip
    parser.add_argument(
        "--cell-quiet", type=float, default=30, metavar="S",
        help="and up to S s before each cell",
    )  # fmt: skip
    parser.add_argument(
        "--noise", type=float, default=0.3, metavar="CORES",
        help="measure a cell again when other load during it averaged more than this",
    )  # fmt: skip
    parser.add_argument("--retries", type=int, default=2, help="at most this many times")
    parser.add_argument(
        "--inputs", nargs="+", default=list(INPUTS), metavar="INPUT",
        help=f"which inputs ({' '.join(INPUTS)})",
    )  # fmt: skip
    args = parser.parse_args()
    total = 8 if args.quick else max(1, args.requests)
    warmup = 1 if args.quick else max(0, args.warmup)
    rounds = 2 if args.quick else max(1, args.rounds)

    pyvips.cache_set_max(0)  # as the app does; the floor would otherwise reuse pixels
    makers = {
        "jpeg12": lambda: Input("jpeg12", "12 MP JPEG", make_test_jpeg(), "image/jpeg"),
        "jpeg2": lambda: Input("jpeg2", "2 MP JPEG", make_test_jpeg(1600, 1200), "image/jpeg"),
        "png4": lambda: Input(
            "png4", "4 MP PNG+alpha", make_test_png_alpha(2400, 1600), "image/png"
        ),
        "jpeg50": lambda: Input("jpeg50", "50 MP JPEG", make_test_jpeg(8192, 6144), "image/jpeg"),
        "png24": lambda: Input(
            "png24", "24 MP PNG+alpha", make_test_png_alpha(6000, 4000), "image/png"
        ),
    }
    unknown = set(args.inputs) - set(makers)
    if unknown:
        parser.error(f"unknown inputs {sorted(unknown)}; choose from {sorted(makers)}")
    inputs = [makers[key]() for key in args.inputs]
    exe, thumbor_info = (None, "skipped (--no-thumbor)")
    if not args.no_thumbor:
        exe, thumbor_info = ensure_thumbor(args.thumbor_venv, THUMBOR_SPEC)
        if exe is None:
            console.print(f"[red]thumbor unavailable[/]: {thumbor_info}")
    kinds = [k for k in KINDS if k != "thumbor" or exe is not None]

    quiet = wait_for_quiet(args.wait_quiet)
    console.print(f"[bold]render vs thumbor[/] · {machine_line()} · other load {quiet:.2f} cores")
    console.print(f"{thumbor_info} · thumbor ENGINE_THREADPOOL_SIZE={args.thumbor_threads}")
    for inp in inputs:
        im = pyvips.Image.new_from_file(str(inp.path))
        console.print(
            f"  {inp.label}: {inp.path.name} {im.width}x{im.height}x{im.bands}, "
            f"{inp.path.stat().st_size / 1e6:.1f} MB"
        )
    console.print(f"{total} timed calls per cell and path in {rounds} alternating batches, "
                  f"{warmup} warm-up; thumbor blur = blur({BLUR_RADIUS},{BLUR_SIGMA})")  # fmt: skip

    cells: dict[tuple[str, str, int, str], Cell] = {}
    quality_rows: list[list[object]] = []
    scores: dict[tuple[str, str, str], float] = {}  # PSNR by input, op, path
    metadata_seen: dict[str, list[str]] = {}
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(running_server(workers=args.workers))
        api = stack.enter_context(api_client(server))
        ids = {}
        for inp in inputs:
            ids[inp.key] = upload_file(api, inp.path, inp.mime)
        for inp in inputs:
            wait_ready(api, ids[inp.key])
        console.print("picsha assets ready: " + ", ".join(f"{k}={v}" for k, v in ids.items()))
        console.print(f"/render on {server_libvips(server)}")
        thumbor = None
        if exe is not None:
            thumbor = stack.enter_context(
                running_thumbor(exe, [i.path for i in inputs], args.thumbor_threads)
            )
        pclients = [
            stack.enter_context(httpx.Client(base_url=server.base_url, timeout=60))
            for _ in CONCURRENCIES
        ]
        tclients = [
            stack.enter_context(httpx.Client(base_url=thumbor.base_url, timeout=60))
            for _ in CONCURRENCIES
            if thumbor
        ]
        # CPU of the serving process (uvicorn, all its threads); the Celery worker in the
        # same group does ingest, not /render, and is counted as other load instead.
        probes = {
            "floor": Probe(time.process_time, os.getpid()),
            "render": Probe(lambda: pid_cpu(server.proc.pid), server.proc.pid),
        }
        if thumbor:
            probes["thumbor"] = Probe(lambda: group_cpu(thumbor.proc.pid), thumbor.proc.pid)
        pgid = server.proc.pid
        # Ingest may leave work behind the `ready` status (analysis): wait for it to end.
        deadline, rate = time.monotonic() + 120, math.inf
        while time.monotonic() < deadline and rate > 0.05:
            c0 = group_cpu(pgid) - pid_cpu(pgid)
            time.sleep(1)
            rate = group_cpu(pgid) - pid_cpu(pgid) - c0
        idle_cpu0 = {k: p.cpu() for k, p in probes.items() if k != "floor"}
        celery0 = group_cpu(pgid) - pid_cpu(pgid)
        time.sleep(3)
        idle = {k: (probes[k].cpu() - v) / 3 * 1000 for k, v in idle_cpu0.items()}
        idle["celery"] = (group_cpu(pgid) - pid_cpu(pgid) - celery0) / 3 * 1000
        console.print(
            "idle CPU (ms per s): "
            + ", ".join(f"{LABELS.get(k, k)} {v:.1f}" for k, v in idle.items())
            + f" · picsha RSS: uvicorn {_status_kb(pgid, 'VmRSS') / 1024:.0f} MB, whole group "
            f"with Celery {group_rss_mb(pgid):.0f} MB"
        )

        def makers(inp: Input, op: Op) -> dict[str, Callable[[int], Callable[[], bytes]]]:
            url = render_url(ids[inp.key], op)
            out: dict[str, Callable[[int], Callable[[], bytes]]] = {
                "floor": lambda i: floor_call(op, inp.path),
                "render": lambda i: http_call(pclients[i], url),
            }
            if thumbor:
                turl = f"/unsafe/{op.thumbor}/{inp.path.name}"
                out["thumbor"] = lambda i: http_call(tclients[i], turl)
            return out

        # Quality (and a first look at every answer) before any timing.
        for inp in inputs:
            full = pyvips.Image.new_from_file(str(inp.path))
            for op in OPS:
                bodies = {k: make(0)() for k, make in makers(inp, op).items()}
                row: list[object] = [inp.label, op.label]
                sizes = [dims(bodies[k]) for k in kinds]
                row.append(sizes[0] if len(set(sizes)) == 1 else " / ".join(sizes))
                border = 3 * BLUR_SIGMA if op.key == "blur" else 4
                reach = 2 if op.key == "crop" else 0  # only a crop's offset is a choice
                bodies["original"] = original_render(inp, op)
                for k in [*kinds, "original"]:
                    try:
                        image = pyvips.Image.new_from_buffer(bodies[k], "")
                        refs = references(op, full, image.width, image.height)
                        value, shift = psnr(bodies[k], refs, border=border, reach=reach)
                        row.append(f"{value:.2f}" + ("" if shift == "+0,+0" else f" ({shift})"))
                        scores[inp.key, op.key, k] = value
                    except ImportError:
                        row.append("no numpy")
                for k in kinds:
                    if k != "floor":
                        chunks = webp_chunks(bodies[k])
                        pixels = sum(v for t, v in chunks.items() if t in ("VP8", "VP8L", "ALPH"))
                        row.append(f"{pixels / 1000:.1f} / {len(bodies[k]) / 1000:.1f}")
                for k in kinds:
                    if k != "floor":
                        row.append(describe_metadata(bodies[k]))
                        if describe_metadata(bodies[k]) != "none":
                            metadata_seen.setdefault(k, []).append(
                                f"{inp.label} {op.label}: {describe_metadata(bodies[k])}"
                            )
                quality_rows.append(row)

        pids = [server.proc.pid]
        groups = [thumbor.proc.pid] if thumbor else []

        def meter() -> OtherLoad:
            return ServingLoad(pids, groups)

        hwm_ok = True
        started = time.monotonic()

        def measure(
            make: dict[str, Callable[[int], Callable[[], bytes]]], conc: int
        ) -> dict[str, Cell]:
            nonlocal hwm_ok
            load = meter()
            here = {k: Cell(Result(LABELS[k], conc)) for k in kinds}
            for k in kinds:
                run_parallel("warm-up", conc, warmup, make[k])
                hwm_ok = reset_peak_rss(probes[k].pid) and hwm_ok
            for r, batch in enumerate(split(total, rounds)):
                order = kinds[r % len(kinds) :] + kinds[: r % len(kinds)]
                for k in order:
                    c0 = probes[k].cpu()
                    part = run_parallel(LABELS[k], conc, batch, make[k], load)
                    here[k].cpu += probes[k].cpu() - c0
                    here[k].result.merge(part)
            for k in kinds:
                here[k].peak_rss_kb = _status_kb(probes[k].pid, "VmHWM")
            return here

        for inp in inputs:
            for op in OPS:
                make = makers(inp, op)
                for conc in CONCURRENCIES:
                    for attempt in range(args.retries + 1):
                        busy = settle(args.cell_quiet, meter)
                        console.print(
                            f"[dim]{time.monotonic() - started:6.0f}s {inp.label} · {op.label}"
                            f" · concurrency {conc} · other load before {busy:.2f}"
                            + (f" · retry {attempt}" if attempt else "") + "[/]"
                        )  # fmt: skip
                        here = measure(make, conc)
                        noise = max(c.result.other_load for c in here.values())
                        best = [cells.get((inp.key, op.key, conc, k)) for k in kinds]
                        if attempt == 0 or noise < max(c.result.other_load for c in best if c):
                            for k in kinds:
                                cells[inp.key, op.key, conc, k] = here[k]
                        if noise <= args.noise:
                            break
        server_problems = server.log_grep(*SERVER_TROUBLE)
        thumbor_problems = thumbor.log_grep("ERROR", "Traceback") if thumbor else []

    # --- tables ---------------------------------------------------------------------------
    columns = ["op", "conc.", "path", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "peak RSS MB"]
    columns += ["errors", "other load"]
    for inp in inputs:
        rows = []
        for op in OPS:
            for conc in CONCURRENCIES:
                for k in kinds:
                    cell = cells[inp.key, op.key, conc, k]
                    r = cell.result
                    n = len(r.latencies)
                    rows.append([
                        op.label, conc, LABELS[k], f"{r.rps:.2f}",
                        ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 99)),
                        f"{cell.cpu * 1000 / n:.0f}" if n else "-",
                        f"{cell.peak_rss_kb / 1024:.0f}", len(r.errors), f"{r.other_load:.2f}",
                    ])  # fmt: skip
        print_table(
            f"{inp.label} ({inp.path.name})", columns, rows,
            caption="CPU and peak RSS: the serving process (uvicorn; thumbor; floor: this "
            "process). other load: cores busy elsewhere, picsha's Celery worker included"
            + ("" if hwm_ok else "; peak RSS since start (clear_refs not allowed)"),
        )  # fmt: skip

    def rps(inp: Input, op: Op, conc: int, k: str) -> float:
        cell = cells.get((inp.key, op.key, conc, k))
        return cell.result.rps if cell else float("nan")

    ratio_rows, vs_thumbor = [], []
    below_thumbor, c2_floor, tails = [], [], []
    for inp in inputs:
        for op in OPS:
            for conc in CONCURRENCIES:
                render = rps(inp, op, conc, "render")
                vf = render / rps(inp, op, conc, "floor")
                vf1 = render / rps(inp, op, 1, "floor")
                vt = render / rps(inp, op, conc, "thumbor")
                lat = cells[inp.key, op.key, conc, "render"].result.latencies
                tail = percentile(lat, 99) / percentile(lat, 50)
                if not math.isnan(vt):
                    vs_thumbor.append(vt)
                    if vt < 1:
                        below_thumbor.append(f"{inp.label} {op.label} c{conc} ({vt:.2f})")
                if conc == 1:
                    tails.append(tail)
                else:
                    c2_floor.append(vf)
                # What two cores give libvips itself: the ceiling for "÷ floor c1" at c2.
                floor_scaling = rps(inp, op, 2, "floor") / rps(inp, op, 1, "floor")
                ratio_rows.append([
                    inp.label, op.label, conc, fmt_ratio(vf),
                    fmt_ratio(vf1) if conc == 2 else "",
                    fmt_ratio(floor_scaling) if conc == 2 else "",
                    fmt_ratio(vt), f"{tail:.2f}",
                ])  # fmt: skip
    print_table(
        "/render throughput ratios",
        ["input", "op", "conc.", "÷ floor", "÷ floor c1", "floor c2÷c1", "÷ thumbor", "p99/p50"],
        ratio_rows,
        caption="÷ floor: same concurrency; ÷ floor c1: /render at c2 over the floor at c1; "
        "floor c2÷c1: the in-process floor's own gain from a second core",
    )
    geo = math.exp(sum(map(math.log, vs_thumbor)) / len(vs_thumbor)) if vs_thumbor else math.nan
    peak = max(cells[key].peak_rss_kb for key in cells if key[3] == "render") / 1024
    console.print(f"[bold]geometric mean /render ÷ thumbor over {len(vs_thumbor)} cells: "
                  f"{fmt_ratio(geo)}[/]")  # fmt: skip
    quality_loss = {
        f"{i} {o}": scores[i, o, "original"] - scores[i, o, "render"]
        for (i, o, k) in scores
        if k == "render" and (i, o, "original") in scores
    }
    worst_loss = max(quality_loss.items(), key=lambda kv: kv[1], default=("-", math.nan))
    checks = [
        ("geomean ≥ 2x thumbor", "yes" if geo >= 2 else "no", fmt_ratio(geo)),
        ("no cell below thumbor (c1 and c2)", f"{len(below_thumbor)} below",
         "; ".join(below_thumbor) or "-"),
        ("/render c2 ≥ 0.95x floor c2", f"{sum(v >= 0.95 for v in c2_floor)}/{len(c2_floor)}",
         f"min {min(c2_floor):.2f}"),
        ("p99 ≤ 1.5x p50 at c1", f"{sum(t <= 1.5 for t in tails)}/{len(tails)}",
         f"max {max(tails):.2f}"),
        ("peak RSS < 500 MB (uvicorn)", "yes" if peak < 500 else "no", f"{peak:.0f} MB"),
        ("PSNR ≥ from original - 0.2 dB",
         f"{sum(v <= 0.2 for v in quality_loss.values())}/{len(quality_loss)}",
         f"worst {worst_loss[0]}: {-worst_loss[1]:+.2f} dB"),
    ]  # fmt: skip
    alpha = cells.get(("png24", "fit", 1, "render"))
    if alpha and alpha.result.latencies:
        cpu = alpha.cpu * 1000 / len(alpha.result.latencies)
        checks.append(("24 MP RGBA → 500 px WebP < 100 ms CPU", "yes" if cpu < 100 else "no",
                       f"{cpu:.0f} ms"))  # fmt: skip
    print_table("issue 17 targets", ["target", "met", "value"], checks)
    if quality_rows:
        served = [k for k in kinds if k != "floor"]
        print_table(
            "Output quality: PSNR dB vs a full-decode lanczos3 resize (higher = closer)",
            ["input", "op", "size"] + [f"PSNR {LABELS[k]}" for k in kinds]
            + ["PSNR /render from original"]
            + [f"kB px/file {LABELS[k]}" for k in served]
            + [f"metadata {LABELS[k]}" for k in served],
            quality_rows,
            caption="alpha composited on grey; (dx,dy) = best integer shift when not 0,0; "
            f"border {3 * BLUR_SIGMA} px left out under blur; blur reference: "
            f"float gaussblur({BLUR_SIGMA}, min_ampl={BLUR_REFERENCE_MIN_AMPL}); "
            "floor bytes = /render bytes",
        )  # fmt: skip
    for k, where in metadata_seen.items():
        console.print(
            f"[red]{LABELS[k]} WebP answers carry metadata[/] in {len(where)} of "
            f"{len(quality_rows)} checked renders, e.g. {where[0]}"
        )

    errors = [e for c in cells.values() for e in c.result.errors]
    for line in sorted(set(errors))[:10]:
        console.print(f"[red]error:[/] {line}")
    for name, lines in (("picsha", server_problems), ("thumbor", thumbor_problems)):
        shown = list(dict.fromkeys(line[:300] for line in lines))
        for line in shown[:5]:
            console.print(f"[yellow]{name} log:[/] {line}")
        if len(shown) > 5:
            console.print(f"[yellow]{name} log:[/] ... {len(lines) - 5} more such lines")
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; servers stopped")
        raise SystemExit(130) from None
