"""Video assets (stub: filled in by the video ingest work)."""

from pathlib import Path
from typing import Any

from ingest_worker.errors import StageError
from ingest_worker.stages.media import STAGE, Made, Report
from shared.manifest import MediaInfo
from shared.settings import Settings


def make(
    path: Path, info: MediaInfo, probed: dict[str, Any], workdir: Path, settings: Settings,
    report: Report,
) -> Made:  # fmt: skip
    raise StageError(STAGE, "unsupported_type", "video is not yet supported")
