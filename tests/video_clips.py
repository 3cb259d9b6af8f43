"""Small video clips made with ffmpeg's lavfi sources, and what a user checks in the output."""

import json
import struct
import subprocess
from pathlib import Path
from typing import Any


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True)


def clip(
    out: Path, *, size: str = "320x240", seconds: float = 2.0, codec: str = "libx264",
    audio: str | None = "aac", extra: tuple[str, ...] = (),
) -> Path:  # fmt: skip
    """testsrc2 (+ a sine tone) encoded as asked; `extra` goes before the output."""
    args: list[str | Path] = ["-f", "lavfi", "-i", f"testsrc2=s={size}:r=25:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=d={seconds}", "-c:a", audio]
    pix = [] if codec in ("mjpeg", "rawvideo") else ["-pix_fmt", "yuv420p"]
    ffmpeg(*args, "-c:v", codec, *pix, *extra, out)
    return out


def probe(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def streams(path: Path, kind: str) -> list[dict[str, Any]]:
    return [s for s in probe(path)["streams"] if s["codec_type"] == kind]


def top_level_atoms(path: Path) -> list[str]:
    """The MP4 box types in file order: `+faststart` puts moov before mdat."""
    data, atoms, pos = path.read_bytes(), [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        atoms.append(kind.decode("latin-1"))
        if size < 8:
            break
        pos += size
    return atoms


def is_mp4(path: Path) -> bool:
    return path.read_bytes()[4:8] == b"ftyp"


def is_jpeg(path: Path) -> bool:
    return path.read_bytes()[:3] == b"\xff\xd8\xff"


def slideshow(out: Path, scenes: list[tuple[bytes, float]], size: str = "640x360") -> Path:
    """Still pictures (JPEG bytes, seconds each) one after the other, letterboxed on white
    into `size`, as H.264 4:2:0 without sound (a proxy copies it as it is)."""
    width, height = size.split("x")
    args: list[str | Path] = []
    chains = []
    for i, (jpeg, seconds) in enumerate(scenes):
        still = out.with_name(f"{out.stem}-scene{i}.jpg")
        still.write_bytes(jpeg)
        args += ["-loop", "1", "-framerate", "25", "-t", f"{seconds}", "-i", still]
        chains.append(
            f"[{i}:v]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:white,setsar=1[s{i}]"
        )
    joined = "".join(f"[s{i}]" for i in range(len(scenes)))
    graph = ";".join([*chains, f"{joined}concat=n={len(scenes)}:v=1:a=0,format=yuv420p[v]"])
    ffmpeg(*args, "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264",
           "-preset", "ultrafast", out)  # fmt: skip
    return out
