"""Ingest throughput per format, in-process, next to the floor for the same file.

    .venv/bin/python bench/ingest_formats.py [--runs 5] [--quick]

For each sample: `pipeline.process()` with `pre_render_sizes=true` on a local store (the
worker's code path without the broker), median of --runs after one warm-up, as assets per
minute on one core. Floor, timed alternately with the pipeline in the same run:
  images   the least libvips work for the same outputs — one shrink-on-load decode into the
           2048 px box → WebP Q80, the 150 px thumb from those pixels → WebP Q75;
  SVG      the same, drawn at 2048 px (vectors are rasterised to that size);
  RAW      LibRaw's demosaic (the unavoidable decode; libvips cannot read RAW) + the same;
  docs     a bare `soffice --convert-to pdf` with a warm profile + the first page at 1240 px.
The pipeline runs a second time per sample with `render_pyramid` off: the difference is
what making `pyramid.tif` adds (time, and its bytes against the original's).
Then ExifTool: the persistent process (pyexiftool -stay_open) against a process per file.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyvips
from common import REPO, make_test_jpeg, make_test_png_alpha, print_table

sys.path.insert(0, str(REPO))

from ingest_worker import pipeline
from ingest_worker.converters import exiftool
from shared.ids import new_id
from shared.imaging import KEEP_NONE
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest
from shared.settings import Settings
from shared.storage.local import LocalStore

CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = [  # (label, path or bench input maker, floor kind)
    ("JPEG 12 MP", make_test_jpeg, "vips"),
    ("JPEG 50 MP", lambda: make_test_jpeg(8192, 6144), "vips"),
    ("PNG 24 MP RGBA", lambda: make_test_png_alpha(6000, 4000), "vips"),
    ("HEIC 12 MP (iPhone 8 Plus)", CORPUS / "heif/iphone_8plus_orientation6.heic", "vips"),
    ("RAW RW2 10 MP (LX3)", CORPUS / "raw/panasonic_dmc-lx3.rw2", "raw"),
    ("PSD 627x510, 6 layers", CORPUS / "psd/group_clipping.psd", "vips"),
    ("EPS (gnuplot)", CORPUS / "vector/gnuplot.eps", "gs"),
    ("SVG logo, transparent", CORPUS / "vector/wikimedia_commons_logo.svg", "svg"),
    ("DOCX 2 pages", CORPUS / "docs/word_cyrillic.docx", "office"),
    ("Markdown 18 pages", CORPUS / "docs/markdown_syntax_gruber.md", "office"),
]


def _samples_floor(image: pyvips.Image) -> None:
    base = image.copy_memory()
    base.webpsave_buffer(Q=80, **KEEP_NONE)
    base.thumbnail_image(150, height=150).webpsave_buffer(Q=75, **KEEP_NONE)


def floor_vips(path: Path, _work: Path) -> None:
    _samples_floor(pyvips.Image.thumbnail(str(path), 2048, height=2048, size="down"))


def floor_svg(path: Path, _work: Path) -> None:
    """Vectors are drawn into the 2048 px box (libvips' SVG loader scales, no resampling)."""
    _samples_floor(pyvips.Image.thumbnail(str(path), 2048, height=2048, size="both"))


def floor_raw(path: Path, _work: Path) -> None:
    import rawpy

    with rawpy.imread(str(path)) as raw:
        rgb = raw.postprocess(use_camera_wb=True, output_bps=8)
    h, w, bands = rgb.shape
    image = pyvips.Image.new_from_memory(rgb.data, w, h, bands, "uchar")
    _samples_floor(image.thumbnail_image(2048, height=2048))


def floor_gs(path: Path, work: Path) -> None:
    out = work / "gs.png"
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dEPSCrop", "-sDEVICE=pngalpha",
         "-r409", f"-sOutputFile={out}", str(path)],
        check=True,
    )  # fmt: skip
    _samples_floor(pyvips.Image.thumbnail(str(out), 2048, height=2048))


def floor_office(path: Path, work: Path) -> None:
    source = path
    args = []
    if path.suffix == ".md":  # the floor gets the HTML for free
        import markdown

        source = work / "doc.html"
        source.write_text(markdown.markdown(path.read_text(), extensions=["fenced_code"]))
        args = ["--infilter=HTML (StarWriter)"]
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{work}/profile", "--headless", *args,
         "--convert-to", "pdf", "--outdir", str(work), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    pdf = work / f"{source.stem}.pdf"
    page = pyvips.Image.pdfload(str(pdf), page=0, scale=1240 / 595)
    _samples_floor(page.thumbnail_image(2048, height=2048))


FLOORS: dict[str, Callable[[Path, Path], None]] = {
    "vips": floor_vips,
    "svg": floor_svg,
    "raw": floor_raw,
    "gs": floor_gs,
    "office": floor_office,
}


def time_pipeline(path: Path, settings: Settings, store: LocalStore) -> tuple[float, int]:
    """Seconds, and the bytes of the pyramid it wrote (0: none)."""
    data = path.read_bytes()
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    save_manifest(
        store,
        Manifest(
            id=asset_id,
            pre_render_sizes=True,
            source=Source(filename=path.name, size=len(data), sha256="0" * 64),
        ),
    )
    start = time.perf_counter()
    m = pipeline.process(asset_id, settings, store)
    elapsed = time.perf_counter() - start
    if m.status != "ready":
        raise SystemExit(f"{path.name}: {m.status} {m.error}")
    pyramid = m.derivatives.get("pyramid")
    return elapsed, pyramid.bytes if pyramid else 0


def time_floor(kind: str, path: Path, work: Path) -> float:
    start = time.perf_counter()
    FLOORS[kind](path, work)
    return time.perf_counter() - start


def bench_exiftool(files: list[Path], rounds: int) -> tuple[float, float]:
    """Seconds per file: persistent process vs a new exiftool process per file."""
    exiftool.read_tags(str(files[0]))  # start it outside the timing
    start = time.perf_counter()
    for _ in range(rounds):
        for f in files:
            exiftool.read_tags(str(f))
    persistent = (time.perf_counter() - start) / (rounds * len(files))
    start = time.perf_counter()
    for _ in range(rounds):
        for f in files:
            subprocess.run(["exiftool", "-j", "-G", "-n", str(f)], check=True, capture_output=True)
    per_process = (time.perf_counter() - start) / (rounds * len(files))
    return persistent, per_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 runs")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    pyvips.cache_set_max(0)  # every run decodes for real

    with tempfile.TemporaryDirectory(prefix="picsha-bench-") as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "data")
        store = LocalStore(root / "data" / "objects")
        flat = settings.model_copy(update={"render_pyramid": False})
        rows = []
        for label, source, kind in SAMPLES:
            path = source if isinstance(source, Path) else source()
            if not path.is_file():
                rows.append([label, "corpus file missing"] + [""] * 6)
                continue
            time_pipeline(path, settings, store)  # warm-up: imports, exiftool, caches
            time_floor(kind, path, Path(tempfile.mkdtemp(dir=root)))
            ingest, without, floor = [], [], []
            for _ in range(runs):  # alternate, so background load hits all alike
                seconds, pyramid_bytes = time_pipeline(path, settings, store)
                ingest.append(seconds)
                without.append(time_pipeline(path, flat, store)[0])
                floor.append(time_floor(kind, path, Path(tempfile.mkdtemp(dir=root))))
            i, w, f = (statistics.median(v) for v in (ingest, without, floor))
            of_original = 100 * pyramid_bytes / path.stat().st_size
            share = f"{pyramid_bytes / 1e6:.2f} MB, {of_original:.0f} %"
            rows.append([
                label, f"{i * 1000:.0f} ms", f"{60 / i:.0f}", f"{60 / f:.0f}", f"{f / i:.2f}",
                f"{(i - w) * 1000:+.0f} ms ({i / w:.2f}x)" if pyramid_bytes else "-",
                share if pyramid_bytes else "-",
            ])  # fmt: skip
            print(f"{label}: ingest {i * 1000:.0f} ms (without pyramid {w * 1000:.0f}), "
                  f"floor {f * 1000:.0f} ms", flush=True)  # fmt: skip
        print_table(
            f"Ingest per format, in-process, median of {runs} (one core)",
            ["sample", "ingest", "assets/min", "floor assets/min", "floor/ingest",
             "pyramid adds", "pyramid bytes (of original)"],
            rows,
        )  # fmt: skip
        files = sorted((CORPUS / "jpeg").glob("*.jpg"))[:20]
        if files:
            persistent, per_process = bench_exiftool(files, 1 if args.quick else 3)
            print_table(
                f"ExifTool per file ({len(files)} corpus JPEGs)",
                ["mode", "ms / file"],
                [
                    ["persistent (-stay_open, what the worker does)", f"{persistent * 1000:.1f}"],
                    ["new process per file", f"{per_process * 1000:.1f}"],
                ],
            )


if __name__ == "__main__":
    main()
