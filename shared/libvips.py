"""Which libvips a process runs: a bundled libvips 8.18 for delivery, Debian's for ingest.

Debian 12's libvips 8.14 has every loader ingest needs (ImageMagick for PSD, poppler,
HEVC HEIC, JPEG XL, JPEG 2000). Delivery only reads web formats and the JPEG
proxies/posters ingest writes, and libvips >= 8.15 resamples and premultiplies with SIMD
(Highway): the same renders take 14-46 % less CPU (in-process, bench inputs; see
docs/delivery.md), and 8.15's `keep=none` drops the EXIF block 8.14's webpsave writes.

pyvips-binary ships such a build (libvips with its own libjpeg-turbo, libspng, libwebp,
libaom, lcms, Pango...), but its `_libvips` module has the file name pyvips compiles
against the system library, so the two cannot share site-packages. scripts/libvips-bundle.sh
installs it into its own folder (`<venv>/libvips-bundle`), and `use_bundled()` puts that
folder first on `sys.path` in processes that deliver — before anything imports pyvips.
The Celery worker is a separate process that never calls it, so ingest keeps every loader.
"""

import sys
from functools import cache
from pathlib import Path

from shared.settings import Settings  # pydantic only: safe to import before pyvips loads


def bundle_dir() -> Path | None:
    """The bundle folder when its `_libvips` module is there (and not switched off)."""
    setting = Settings().libvips_bundle
    if setting == "0":
        return None
    folder = Path(setting) if setting else Path(sys.prefix) / "libvips-bundle"
    return folder if any(folder.glob("_libvips*.so")) else None


def use_bundled() -> bool:
    """Load pyvips on the bundled libvips if it is installed; True when that happened.

    Must run before the first `import pyvips` of the process: once a libvips is loaded it
    stays, so a late call changes nothing and says so by returning False.
    """
    if "pyvips" in sys.modules:
        return running_bundled()
    folder = bundle_dir()
    if folder is None:
        return False
    sys.path.insert(0, str(folder))
    return running_bundled()


def running_bundled() -> bool:
    """Is this process's pyvips bound to the bundled build?"""
    import pyvips

    module = sys.modules.get("_libvips")
    origin = getattr(module, "__file__", "") or ""
    folder = bundle_dir()
    return bool(pyvips.API_mode and folder and Path(origin).parent == folder)


@cache  # a process's libvips never changes once loaded; /healthz asks on every probe
def describe() -> str:
    """ "libvips 8.18.7 (bundled)" or "libvips 8.14.1 (system)", for logs and /healthz."""
    import pyvips

    version = ".".join(str(pyvips.version(i)) for i in range(3))
    return f"libvips {version} ({'bundled' if running_bundled() else 'system'})"
