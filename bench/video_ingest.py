"""Video ingest against the floor: ffmpeg alone making the same proxy, in the same run.

    .venv/bin/python bench/video_ingest.py [--runs 3] [--quick]

Inputs (made once, cached in bench/out/): 10 s 1080p25 clips of testsrc2 with mild temporal
noise (so they encode like camera footage, not like flat synthetic colour) + a 440 Hz tone:
  H.264 web-ready   yuv420p + AAC in MP4: the app copies it (remux + faststart)
  H.264 phone       the same with a 90° display matrix: rotation must be baked in, so the
                    app transcodes
  HEVC              libx265 + AAC in MOV: transcoded
Timed, alternately per run (median of --runs after one warm-up):
  floor     the one ffmpeg command for the proxy the app makes: `-c copy +faststart` for
            the web-ready clip, else libx264 veryfast CRF 23 with a keyframe every 2 s +
            AAC 128k + faststart at the same size (what stages/video.py asks for)
  make      video.make through the media stage: probe, poster candidates + scoring, the
            poster, proxy.mp4 and preview.mp4
  pipeline  pipeline.process on a local store (sniff, ExifTool, the above, samples from
            the poster, placeholders): everything an upload costs before `ready`
Target: make/floor <= 1.2 where the app transcodes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyvips
from common import REPO, cached_clip, machine_line, print_table

sys.path.insert(0, str(REPO))

from ingest_worker import pipeline
from ingest_worker.stages import media, video
from ingest_worker.stages.sniff import Sniffed
from shared import process
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest
from shared.media import info_from_probe, probe_json
from shared.settings import Settings
from shared.storage.local import LocalStore

SOURCE = ["-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=25:d=10,noise=alls=4:allf=t",
          "-f", "lavfi", "-i", "sine=f=440:d=10"]  # fmt: skip
H264 = ["-c:v", "libx264", "-preset", "medium", "-pix_fmt", "yuv420p", "-c:a", "aac"]
SAMPLES: list[tuple[str, str, list[str]]] = [  # label, file, encode ("rotate": see below)
    ("H.264 1080p web-ready (remux)", "h264_1080p.mp4", H264),
    ("H.264 1080p phone, rotated (transcode)", "h264_1080p_rot90.mp4", ["rotate"]),
    ("HEVC 1080p (transcode)", "hevc_1080p.mov",
     ["-c:v", "libx265", "-preset", "fast", "-tag:v", "hvc1", "-pix_fmt", "yuv420p",
      "-x265-params", "log-level=none", "-c:a", "aac"]),
]  # fmt: skip
FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]


def make_input(name: str, encode: list[str]) -> Path:
    def command(tmp: Path) -> list[str]:
        if encode == ["rotate"]:  # the web-ready clip with a phone's 90° display matrix
            tmp.write_bytes(make_input("h264_1080p.mp4", H264).read_bytes())
            return ["exiftool", "-q", "-overwrite_original", "-Rotation=90", str(tmp)]
        return [*FFMPEG, *SOURCE, *encode, "-shortest", str(tmp)]

    return cached_clip(name, command)


def floor(path: Path, work: Path, remux: bool) -> float:
    out = work / "floor.mp4"
    codec = (["-c", "copy"] if remux else
             ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-crf", "23",
              *video.PROXY_KEYFRAMES, "-c:a", "aac", "-b:a", "128k"])  # fmt: skip
    args = [*FFMPEG, "-i", str(path), "-map", "0:v:0", "-map", "0:a:0?", *codec,
            "-movflags", "+faststart", str(out)]  # fmt: skip
    start = time.perf_counter()
    if process.run(args, 600).returncode:
        raise SystemExit("floor ffmpeg failed")
    return time.perf_counter() - start


def make(path: Path, work: Path, settings: Settings) -> float:
    """Seconds for video.make through the media stage (its probe included)."""
    start = time.perf_counter()
    media.make(Sniffed("video/mp4", "video", "media"), path, work, settings,
               lambda _stage, _fraction: None)  # fmt: skip
    return time.perf_counter() - start


def whole_pipeline(path: Path, settings: Settings, store: LocalStore) -> float:
    data = path.read_bytes()
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    save_manifest(store, Manifest(id=asset_id, pre_render_sizes=True,
                                  source=Source(filename=path.name, size=len(data),
                                                sha256="0" * 64)))  # fmt: skip
    start = time.perf_counter()
    m = pipeline.process(asset_id, settings, store)
    elapsed = time.perf_counter() - start
    if m.status != "ready":
        raise SystemExit(f"{path.name}: {m.status} {m.error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 run")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    pyvips.cache_set_max(0)
    print(machine_line(), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="picsha-bench-") as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "data", analysis_enabled=False)
        store = LocalStore(root / "data" / "objects")
        for label, name, encode in SAMPLES:
            path = make_input(name, encode)
            work = Path(tempfile.mkdtemp(dir=root))
            probed = probe_json(path)
            remuxed = video.can_remux(info_from_probe(probed), probed)
            make(path, work, settings)  # warm-up
            floor(path, work, remuxed)
            floors: list[float] = []
            makes: list[float] = []
            pipes: list[float] = []
            for _ in range(runs):  # alternate, so background load hits all alike
                floors.append(floor(path, Path(tempfile.mkdtemp(dir=root)), remuxed))
                makes.append(make(path, Path(tempfile.mkdtemp(dir=root)), settings))
                pipes.append(whole_pipeline(path, settings, store))
            f, m, p = (statistics.median(v) for v in (floors, makes, pipes))
            rows.append([label, "copy" if remuxed else "libx264", f"{f * 1000:.0f}",
                         f"{m * 1000:.0f}", f"{m / f:.2f}", f"{p * 1000:.0f}",
                         f"{p / f:.2f}"])  # fmt: skip
            print(f"{label}: floor {f * 1000:.0f} ms, make {m * 1000:.0f} ms, "
                  f"pipeline {p * 1000:.0f} ms", flush=True)  # fmt: skip
    print_table(
        f"Video ingest, 10 s 1080p, median of {runs}",
        ["sample", "proxy", "floor ms", "make ms", "make/floor", "pipeline ms",
         "pipeline/floor"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
