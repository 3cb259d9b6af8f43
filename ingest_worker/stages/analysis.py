"""Stage 5: labels, faces, OCR text, description, embedding, alt text and summary.

Runs on its own queue after the asset is ready. It never fails the asset: the outcome is
`analysis.status` — `done`, `skipped` (provider cannot run here, with the reason) or
`failed` (with the error) — and the renders stay as they are.
"""

import logging
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from ingest_worker import runtime
from ingest_worker.stages import video_frames
from shared import imaging
from shared.ai import (
    AIProvider,
    ImageFacts,
    ProviderError,
    ProviderUnavailable,
    TransientProviderError,
)
from shared.ai import describe as describe_
from shared.ai.colors import dominant_colors
from shared.ai.dhash import dhash
from shared.ai.prepare import model_jpeg, rgb_array
from shared.keys import derivative_key, original_key
from shared.manifest import (
    Analysis,
    AnalysisEmbedding,
    AnalysisError,
    AnalysisFace,
    AnalysisLabel,
    Box,
    Manifest,
    load_manifest,
    save_manifest,
    utcnow,
)
from shared.search.base import vector_to_b64
from shared.settings import Settings, get_settings
from shared.storage import ObjectStore

log = logging.getLogger(__name__)

STAGE = "analysis"
MAX_DOCUMENT_TEXT = 200_000  # characters read from a document for its summary and index
PDFTOTEXT_TIMEOUT = 60


def analyze(
    manifest: Manifest,
    settings: Settings,
    store: ObjectStore,
    provider: AIProvider | None = None,
) -> Analysis:
    """The analysis record for the manifest. Raises only TransientProviderError (retry)."""
    record = Analysis(provider=settings.ai, analyzed_at=utcnow())
    try:
        provider = provider or runtime.provider(settings)
        check = getattr(provider, "check", None)
        if check:
            check()
    except ProviderUnavailable as exc:
        return _ended(record, "skipped", reason=str(exc))
    record.provider = provider.name
    try:
        return _run(manifest, store, provider, record)
    except TransientProviderError:
        raise
    except ProviderUnavailable as exc:
        return _ended(record, "skipped", reason=str(exc))
    except (ProviderError, imaging.ImageDecodeError) as exc:
        return _ended(
            record, "failed", error=AnalysisError(code="provider_error", message=str(exc))
        )
    except Exception as exc:  # a model crash on one odd input must not kill the worker
        log.exception("analysis of %s failed", manifest.id)
        return _ended(
            record, "failed", error=AnalysisError(code="internal_error", message=str(exc))
        )


def _ended(record: Analysis, status: str, **fields: object) -> Analysis:
    return record.model_copy(update={"status": status, **fields})


def _run(
    manifest: Manifest, store: ObjectStore, provider: AIProvider, record: Analysis
) -> Analysis:
    facts = manifest_facts(manifest)
    jpeg = _model_image(manifest, store, provider)
    hash_ = None
    if manifest.kind == "document" or (manifest.source.mime or "").startswith("text/"):
        facts.document_text = _document_text(manifest, store)
    if jpeg is not None:
        facts.labels = provider.labels(jpeg)
        facts.faces = provider.faces(jpeg)
        facts.ocr_text = provider.ocr(jpeg)
        rgb = rgb_array(jpeg, 256)
        facts.colors = dominant_colors(rgb)
        hash_ = dhash(rgb)
    # Alt text describes the picture a reader is shown: the poster, not the sampled frames.
    poster_facts = replace(facts)
    frames = None
    if manifest.kind == "video":
        # Labels and text from a few more frames; faces (boxes on the poster), colours,
        # dhash and the embedding's image stay the poster's (video_frames.py).
        sampled = video_frames.read_frames(manifest, store, provider, [hash_] if hash_ else [])
        facts.labels = video_frames.merge_labels(facts.labels, sampled.labels)
        facts.ocr_text = video_frames.merge_text(facts.ocr_text, sampled.texts)
        frames = sampled.times
    description = describe_.description(facts)
    embedding = provider.embed_asset(description, jpeg)
    alt_text, alt_source = provider.alt_text(poster_facts, jpeg)
    summary_source = facts.document_text or (facts.ocr_text if len(facts.ocr_text) > 200 else "")
    return record.model_copy(
        update={
            "status": "done",
            "dhash": hash_,
            "frames": frames,
            "labels": [
                AnalysisLabel(name=lb.name, confidence=lb.confidence) for lb in facts.labels
            ],
            "faces": [
                AnalysisFace(
                    box=Box(*f.box),
                    confidence=f.confidence,
                    embedding=f.embedding or None,
                    face_id=f.face_id,
                    matches=(f.matches or []) if f.face_id else None,
                )
                for f in facts.faces
            ],
            "ocr_text": facts.ocr_text,
            "colors": facts.colors,
            "description": description,
            "alt_text": alt_text,
            "alt_text_source": alt_source,
            "summary": provider.summarize(summary_source) if summary_source else None,
            "embedding": AnalysisEmbedding(
                model=embedding.model,
                dim=int(embedding.vector.shape[0]),
                vector=vector_to_b64(embedding.vector),
            ),
        }
    )


def manifest_facts(manifest: Manifest) -> ImageFacts:
    meta = manifest.metadata
    camera = None
    place = None
    if meta is not None:
        camera = meta.camera_name()
        iptc = meta.iptc or {}
        place = ", ".join(
            str(iptc[k]) for k in ("City", "Country-PrimaryLocationName") if iptc.get(k)
        )
    media = manifest.media
    tags = media.tags.model_dump(exclude_none=True) if media and media.tags else {}
    return ImageFacts(
        camera=camera,
        taken_at=meta.taken_at if meta else None,
        place=place or None,
        filename=manifest.source.filename,
        kind=manifest.kind,
        duration=media.duration if media else None,
        media_tags=tags,
    )


def source_key(manifest: Manifest, store: ObjectStore) -> str | None:
    """What a model should look at: the proxy or poster where one exists, else the original
    when it is an image libvips reads (documents without a poster have nothing to see).

    Videos and audio: the poster (a frame, or the cover art), never the original; an audio
    poster drawn as a waveform holds no labels, faces or text, so there is nothing to see.
    A video's sampled frames are read on top of it (video_frames.py).
    """
    if manifest.kind in ("video", "audio"):
        if manifest.media and manifest.media.poster_source == "waveform":
            return None
        names: tuple[str, ...] = ("poster",)
    else:
        names = ("proxy", "poster")
    for name in names:
        if name in manifest.derivatives:
            return manifest.derivatives[name].key
        key = derivative_key(manifest.id, name)
        if store.exists(key):
            return key
    if manifest.kind in ("image", "complex_image", "vector"):
        return original_key(manifest.id)
    return None


def _model_image(manifest: Manifest, store: ObjectStore, provider: AIProvider) -> bytes | None:
    key = source_key(manifest, store)
    if key is None:
        return None
    with store.local_copy(key) as path:
        return model_jpeg(path, provider.max_image_side, provider.max_image_bytes)


def _document_text(manifest: Manifest, store: ObjectStore) -> str:
    mime = manifest.source.mime or ""
    if mime.startswith("text/"):
        with store.open(original_key(manifest.id)) as f:
            return f.read(MAX_DOCUMENT_TEXT * 4).decode("utf-8", "replace")[:MAX_DOCUMENT_TEXT]
    pdf = "document" if "document" in manifest.derivatives else None
    key = derivative_key(manifest.id, pdf) if pdf else None
    if key is None and mime == "application/pdf":
        key = original_key(manifest.id)
    if key is None or not shutil.which("pdftotext"):
        return ""  # the poster's OCR text stands in
    with store.local_copy(key) as path:
        return _pdftotext(path)


def _pdftotext(path: Path) -> str:
    try:
        done = subprocess.run(
            ["pdftotext", "-q", "-enc", "UTF-8", "-l", "50", str(path), "-"],
            capture_output=True,
            timeout=PDFTOTEXT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ""
    return done.stdout.decode("utf-8", "replace")[:MAX_DOCUMENT_TEXT]


def run(
    asset_id: str,
    settings: Settings | None = None,
    store: ObjectStore | None = None,
    provider: AIProvider | None = None,
) -> Manifest | None:
    """The analysis job: analyse a ready asset and record the result in its manifest."""
    settings = settings or get_settings()
    store = store or runtime.store()
    manifest = load_manifest(store, asset_id)
    if manifest is None or manifest.status != "ready":
        return manifest  # deleted, or a reprocess is under way and will enqueue us again
    record = analyze(manifest, settings, store, provider)
    # Re-read just before writing: only `analysis` is ours, the rest may have moved on.
    latest = load_manifest(store, asset_id)
    if latest is None or latest.source.sha256 != manifest.source.sha256:
        return latest
    latest.analysis = record
    save_manifest(store, latest)
    return latest
