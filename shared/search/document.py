"""Manifest → index entry. The one place that decides what of an asset is searchable."""

import numpy as np

from shared.manifest import Analysis, Manifest
from shared.search.base import IndexDoc, normalise, vector_from_b64

# Metadata fields worth matching by keyword (camera, lens, place, IPTC words, ...).
_META_KEYS = ("lens", "taken_at")
_IPTC_KEYS = ("Keywords", "Caption-Abstract", "Headline", "City", "Country-PrimaryLocationName")


def doc_from_manifest(manifest: Manifest) -> IndexDoc:
    analysis = manifest.analysis or Analysis()
    meta = manifest.metadata
    camera = None
    meta_words: list[str] = []
    date = None
    if meta is not None:
        camera = meta.camera_name()
        if camera:
            meta_words.append(camera)
        meta_words += [str(getattr(meta, k)) for k in _META_KEYS if getattr(meta, k, None)]
        if meta.exposure is not None and meta.exposure.program:
            meta_words.append(meta.exposure.program)
        for key in _IPTC_KEYS:
            value = (meta.iptc or {}).get(key)
            if value:
                meta_words.append(
                    " ".join(map(str, value)) if isinstance(value, list) else str(value)
                )
        date = _iso(meta.taken_at)
    media = manifest.media
    codecs: list[str] = []
    if media is not None:
        codecs = [c.lower() for c in (media.video_codec, media.audio_codec) if c]
        if media.tags is not None:  # title, artist, album: found by keyword
            meta_words += [v for v in media.tags.model_dump().values() if v]
    labels = [lb.name for lb in analysis.labels if lb.name]
    faces = analysis.faces or []
    embedding = analysis.embedding
    vector = None
    if embedding is not None and embedding.vector:
        vector = normalise(vector_from_b64(embedding.vector))
    face_vectors = [
        (list(f.box), np.asarray(f.embedding, dtype=np.float32)) for f in faces if f.embedding
    ]
    face_links = [
        (list(f.box), f.face_id, f.matches or []) for f in faces if f.face_id and not f.embedding
    ]
    return IndexDoc(
        id=manifest.id,
        kind=manifest.kind,
        mime=manifest.source.mime,
        filename=manifest.source.filename,
        labels=labels,
        description=analysis.description,
        ocr_text=analysis.ocr_text,
        alt_text=analysis.alt_text or "",
        metadata_text=" ".join(meta_words),
        has_faces=bool(faces),
        face_count=len(faces),
        camera=camera,
        date=date or manifest.created_at.isoformat(),
        created_at=manifest.created_at.isoformat(),
        duration=media.duration if media is not None else None,
        codecs=codecs,
        embedding_model=embedding.model if embedding and vector is not None else None,
        vector=vector,
        face_vectors=face_vectors,
        face_links=face_links,
    )


def _iso(taken_at: str | None) -> str | None:
    """ISO 8601 from the metadata stage; an EXIF-style `2008:10:22 16:29:49` is converted."""
    if not taken_at or len(taken_at) < 10:
        return None
    if taken_at[4] == ":":
        return taken_at[:10].replace(":", "-") + "T" + taken_at[11:19]
    return taken_at
