"""Facts → words: the search description and the alt text, composed without a language model.

The local search embedding is "describe, then embed": no package here ships CLIP or a
captioning model, so an asset is embedded through this text (labels, OCR text, faces,
colours, camera, date, place, filename, document text) with the same model as the query.
"""

import re

from shared.ai.types import ImageFacts

ALT_TEXT_SOURCE_LABELS = "generated from detected labels"
# ImageNet names carry Latin and duplicate synonyms ("tench, Tinca tinca"): keep two.
_SYNONYMS = 2
_MIN_CONFIDENCE = 0.10


def label_words(name: str) -> str:
    parts = [p.strip() for p in name.split(",") if p.strip()]
    return ", ".join(parts[:_SYNONYMS])


def _labels(facts: ImageFacts) -> list[str]:
    return [label_words(lb.name) for lb in facts.labels if lb.confidence >= _MIN_CONFIDENCE]


def _people(n: int) -> str:
    return "no people" if n == 0 else "one person" if n == 1 else f"{n} people"


def _filename_words(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0]
    return " ".join(re.findall(r"[^\W_]+", stem))


def clock(seconds: float) -> str:
    """A duration as players show it: 0:07, 3:12, 1:02:03."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _media_head(facts: ImageFacts, seen: str, video: str, audio: str) -> str | None:
    """'An audio recording (3:12): "Night Train" by The Sleepers, from Timetables, with
    cover art of jellyfish' / 'A video (1:02), showing beach'; None for stills."""
    name = {"video": video, "audio": audio}.get(facts.kind or "")
    if name is None:
        return None
    head = f"{name} ({clock(facts.duration)})" if facts.duration is not None else name
    tags = facts.media_tags
    if tags.get("title"):
        head += f': "{tags["title"]}"'
    if tags.get("artist"):
        head += f" by {tags['artist']}"
    if tags.get("album"):
        head += f"{',' if tags.get('title') or tags.get('artist') else ''} from {tags['album']}"
    if seen:
        # An audio file's picture is its cover art; a video's, a frame of it.
        head += f", {'with cover art of' if facts.kind == 'audio' else 'showing'} {seen}"
    return head


def description(facts: ImageFacts, max_chars: int = 2000) -> str:
    parts: list[str] = []
    labels = _labels(facts)
    media = _media_head(facts, "; ".join(labels), "A video", "An audio recording")
    if media is not None:
        parts.append(f"{media}.")
    else:
        subject = {"document": "A document", "vector": "A drawing"}.get(facts.kind or "", "A photo")
        parts.append(f"{subject} of {'; '.join(labels)}." if labels else f"{subject}.")
    if facts.faces:
        parts.append(f"Shows {_people(len(facts.faces))} (faces).")
    if facts.colors:
        parts.append(f"Colours: {', '.join(facts.colors)}.")
    if facts.ocr_text:
        parts.append(f"Text: {' '.join(facts.ocr_text.split())[:500]}.")
    if facts.document_text:
        parts.append(" ".join(facts.document_text.split())[:800])
    if facts.camera:
        parts.append(f"Taken with a {facts.camera}.")
    if facts.taken_at:
        parts.append(f"Date {facts.taken_at[:10]}.")
    if facts.place:
        parts.append(f"Place {facts.place}.")
    if facts.filename:
        parts.append(f"File {_filename_words(facts.filename)}.")
    return " ".join(parts)[:max_chars]


def alt_text(facts: ImageFacts) -> str:
    """Short, screen-reader friendly; says only what was detected."""
    labels = _labels(facts)[:2]
    seen = " or ".join(lb.split(",")[0] for lb in labels)
    media = _media_head(facts, seen, "Video", "Audio")
    if media is not None:
        head = media
    elif facts.kind == "document":
        head = "Document"
    elif labels:
        head = f"Image of {seen}"
    else:
        head = "Image"
    bits = []
    if facts.faces:
        bits.append(f"with {_people(len(facts.faces))}")
    if facts.colors:
        bits.append(f"mostly {' and '.join(facts.colors[:2])}")
    text = " ".join([head, *bits])
    if facts.ocr_text:
        snippet = " ".join(facts.ocr_text.split())[:120]
        text += f', with the text "{snippet}"'
    return text + "."
