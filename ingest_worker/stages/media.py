"""Video and audio: which of the two a file is (from its streams), and what each gets.

video: poster.jpg from a representative frame, proxy.mp4 (H.264/AAC, faststart) and a
short silent preview.mp4 (stages/video.py) · audio: poster.jpg from the cover art or a
waveform, proxy.m4a (stages/audio.py). The poster is then the image every sample,
placeholder and analysis comes from, as for documents.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest_worker.errors import StageError
from ingest_worker.stages.sniff import Sniffed
from shared.manifest import MediaInfo
from shared.settings import Settings

STAGE = "media"

Report = Callable[[str, float], None]  # (stage, fraction done): progress in the manifest


@dataclass
class Made:
    kind: str  # "video" | "audio"
    info: MediaInfo
    poster: Path
    poster_width: int
    poster_height: int
    files: dict[str, Path] = field(default_factory=dict)  # derivative name → local file


def make(sniffed: Sniffed, path: Path, workdir: Path, settings: Settings, report: Report) -> Made:
    message = f"{sniffed.mime}: video and audio are not yet supported"
    raise StageError(STAGE, "unsupported_type", message)
