"""A video's sampled frames for analysis: what happens after the poster's moment.

The poster is one moment of the video; a title card, a caption or a subject that shows up
later would never be searchable from it. So besides the poster the models read up to
`FRAMES` more frames, at the centres of equal parts of the clip (away from the very start
and end), for labels and OCR text only: faces, colours, the dhash, the embedding's image
and the alt text stay the poster's (face boxes are boxes on the poster).

Cost, bounded per asset: at most `FRAMES` ffmpeg runs of at most `media.FRAME_TIMEOUT`
each, and 2 provider calls (labels, OCR) per frame that is not the poster again. Frames
come from `proxy.mp4` when there is one (H.264 with its index up front: a seek reads the
index and one GOP, at ≤ 1080p) and are decoded one at a time, scaled by ffmpeg to the
provider's side, and dropped as soon as the models have read them.

A frame is best effort: one that cannot be decoded (truncated file, timeout, a store
without the object) or that a model rejects or crashes on is skipped and logged; only a
transient provider error (throttling) propagates, to retry the whole analysis as for the
poster.
"""

import logging
import math
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from shared import imaging, media
from shared.ai import AIProvider, Label, ProviderError, TransientProviderError
from shared.ai.dhash import dhash, distance
from shared.ai.prepare import model_jpeg, rgb_array
from shared.keys import original_key
from shared.manifest import Manifest
from shared.process import ConverterTimeout
from shared.storage import ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)

FRAMES = 3  # besides the poster
MIN_SPACING = 2.0  # seconds of video per sampled frame: a 3 s clip gets one, a 1 s clip none
# A frame whose dhash is this close to the poster's (or an earlier frame's) shows the same
# picture: the models would only say again what they said, so it costs no provider call.
SAME_PICTURE_BITS = 4
MAX_TEXT = 2000  # characters of OCR text a video keeps, the poster's first
HASH_SIDE = 256  # the dhash reads no more


@dataclass
class FrameFacts:
    """What the sampled frames add: their labels and text, and which frames were read."""

    labels: list[Label] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # seconds; frames the models read


def sample_times(duration: float | None) -> list[float]:
    """Up to FRAMES times, one at the centre of each equal part of the clip."""
    if not duration or duration <= 0:
        return []
    n = min(FRAMES, math.floor(duration / MIN_SPACING))
    return [round((i + 0.5) * duration / n, 3) for i in range(n)]


def source_key(manifest: Manifest) -> str:
    """The web proxy (cheap to seek, rotation baked in) when there is one, else the original."""
    proxy = manifest.derivatives.get("proxy_video")
    return proxy.key if proxy is not None else original_key(manifest.id)


def read_frames(
    manifest: Manifest, store: ObjectStore, provider: AIProvider, seen: list[str]
) -> FrameFacts:
    """Labels and text of the sampled frames; `seen` holds the dhashes of pictures already
    read (the poster's) and gains those of the frames read here."""
    facts = FrameFacts()
    times = sample_times(manifest.media.duration if manifest.media else None)
    if manifest.kind != "video" or not times:
        return facts
    for at, jpeg in _frames(store, source_key(manifest), times, provider, manifest.id):
        try:
            hash_ = dhash(rgb_array(jpeg, HASH_SIDE))
            if any(distance(hash_, h) <= SAME_PICTURE_BITS for h in seen):
                continue
            labels, text = provider.labels(jpeg), provider.ocr(jpeg)
        except TransientProviderError:
            raise  # the poster's calls would meet the same throttling: retry the analysis
        except (ProviderError, imaging.ImageDecodeError) as exc:
            log.warning("%s: frame at %gs skipped: %s", manifest.id, at, exc)
            continue
        except Exception:  # a model crash on one odd frame costs the frame, not the analysis
            log.exception("%s: frame at %gs skipped", manifest.id, at)
            continue
        seen.append(hash_)
        facts.labels = merge_labels(facts.labels, labels)
        if text.strip():
            facts.texts.append(text)
        facts.times.append(at)
    return facts


def _frames(
    store: ObjectStore, key: str, times: list[float], provider: AIProvider, asset_id: str
) -> Iterator[tuple[float, bytes]]:
    """(time, model JPEG) for each time that decodes; one frame held at a time."""
    with tempfile.TemporaryDirectory(prefix="picsha-frames-") as folder, ExitStack() as stack:
        # A presigned URL in S3 mode: ffmpeg reads only the index and the GOPs it seeks to.
        location: str | Path | None = store.local_path(key) or store.presigned_url(key)
        for i, at in enumerate(times):
            out = Path(folder) / f"frame{i}.jpg"
            try:
                if location is None:
                    location = stack.enter_context(store.local_copy(key))
                media.frame_at(location, at, out, max_side=provider.max_image_side)
                jpeg = model_jpeg(out, provider.max_image_side, provider.max_image_bytes)
            except (media.MediaError, ConverterTimeout, imaging.ImageDecodeError) as exc:
                log.warning("%s: no frame at %gs: %s", asset_id, at, exc)
                continue
            except ObjectNotFound:
                log.warning("%s: %s is missing; no frames sampled", asset_id, key)
                return
            except OSError as exc:  # no ffmpeg on this host: the poster alone is analysed
                log.warning("%s: frames not sampled: %s", asset_id, exc)
                return
            finally:
                out.unlink(missing_ok=True)
            yield at, jpeg


def merge_labels(*lists: list[Label]) -> list[Label]:
    """One label per name, at the highest confidence any picture gave it, best first."""
    best: dict[str, Label] = {}
    for labels in lists:
        for lb in labels:
            if lb.name not in best or lb.confidence > best[lb.name].confidence:
                best[lb.name] = Label(name=lb.name, confidence=lb.confidence)
    return sorted(best.values(), key=lambda lb: -lb.confidence)


def merge_text(poster: str, frames: list[str], limit: int = MAX_TEXT) -> str:
    """The poster's text, then each frame's lines not already read (case and spacing
    ignored: a caption that stays on screen is kept once), within `limit` characters
    (whole words)."""
    kept = [poster.strip()] if poster.strip() else []
    known = {_norm(line) for line in poster.splitlines()} | {_norm(poster)}
    for text in frames:
        for raw in text.splitlines():
            norm = _norm(raw)
            if not norm or norm in known:
                continue
            room = limit - sum(len(k) + 1 for k in kept)
            if room <= 0:
                return "\n".join(kept)
            line = " ".join(raw.split())
            if len(line) > room:
                line = line[:room].rsplit(" ", 1)[0] if " " in line[:room] else ""
            if line:
                kept.append(line)
                known.add(norm)
    return "\n".join(kept)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())
