"""The asset record (`assets/{id}/manifest.json`): pydantic model, read and written atomically."""

from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from shared.keys import manifest_key
from shared.storage import ObjectNotFound, ObjectStore

SCHEMA_VERSION = 1

Status = Literal["queued", "processing", "ready", "failed"]
Kind = Literal["image", "complex_image", "vector", "document", "video", "audio", "other"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Model(BaseModel):
    # Unknown fields survive a read-modify-write by an older or newer worker.
    model_config = ConfigDict(extra="allow")


class AssetError(_Model):
    stage: str
    code: str
    message: str


class Source(_Model):
    filename: str
    size: int
    sha256: str
    mime: str | None = None  # sniffed from magic bytes
    declared_mime: str | None = None  # what the client said; recorded, never trusted


class ImageInfo(_Model):
    width: int
    height: int
    orientation: int = 1
    has_alpha: bool = False
    pages: int = 1
    animated: bool = False
    icc: str | None = None  # ICC profile description, when the file embeds one


# --- analysis: what ingest_worker/stages/analysis.py records (docs/search-and-ai.md) ---


class Box(NamedTuple):
    """A face box as fractions (0..1) of the displayed image, as every provider reports it,
    so it fits any rendition; stored as `[x, y, width, height]`."""

    x: float
    y: float
    width: float
    height: float

    def pixels(self, image_width: int, image_height: int) -> tuple[float, float, float, float]:
        return (
            self.x * image_width,
            self.y * image_height,
            self.width * image_width,
            self.height * image_height,
        )


class AnalysisLabel(_Model):
    name: str
    confidence: float  # 0..1


class AnalysisFace(_Model):
    box: Box
    confidence: float  # 0..1
    embedding: list[float] | None = None  # local provider: for grouping people
    face_id: str | None = None  # Rekognition collection face id (bedrock with a collection)
    matches: list[str] | None = None  # face ids of the same person already in the collection


class AnalysisEmbedding(_Model):
    model: str  # vectors of different models never share a ranking
    dim: int
    vector: str  # base64 float32, L2-normalised: `picsha reindex` needs the manifests alone


class Duplicate(_Model):
    id: str
    hash_distance: int | None  # dHash bits of 64; None when either side has no hash
    cosine: float


class AnalysisError(_Model):
    code: str
    message: str


class Analysis(_Model):
    """The analysis outcome; it never fails the asset. `skipped` carries `reason`, `failed`
    carries `error`, `done` the results."""

    status: Literal["done", "skipped", "failed"] | None = None  # the stage always sets it
    provider: str | None = None
    analyzed_at: datetime | None = None
    reason: str | None = None
    error: AnalysisError | None = None
    labels: list[AnalysisLabel] = Field(default_factory=list)
    faces: list[AnalysisFace] | None = None  # None: not looked for (g=face detects instead)
    ocr_text: str = ""
    colors: list[str] = Field(default_factory=list)
    description: str = ""
    alt_text: str | None = None
    alt_text_source: str | None = None
    summary: str | None = None
    dhash: str | None = None  # 64-bit perceptual hash (hex), for near-duplicates
    # Videos: times (s) of the frames whose labels and text joined the poster's.
    frames: list[float] | None = None
    embedding: AnalysisEmbedding | None = None
    duplicates: list[Duplicate] | None = None  # found right after analysis


class DerivativeInfo(_Model):
    key: str
    width: int | None = None
    height: int | None = None
    bytes: int
    levels: int | None = None  # pyramid: pages, each half the one before
    source_sha256: str | None = None  # pyramid: the upload it was made from


class MediaTags(_Model):
    """The tags people search audio (and some video) by, as the container states them."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None


class MediaInfo(_Model):
    """A video's or audio file's streams, from ffprobe (shared/media.py)."""

    duration: float | None = None  # seconds
    width: int | None = None  # as displayed: after the rotation below
    height: int | None = None
    rotation: int = 0  # degrees clockwise the player turns the coded frames (0/90/180/270)
    fps: float | None = None  # average frame rate (variable-rate recordings: the mean)
    video_codec: str | None = None  # ffprobe's codec_name: "h264", "hevc", "vp9", ...
    audio_codec: str | None = None  # "aac", "mp3", "flac", "opus", ...
    bit_rate: int | None = None  # bits per second, whole file
    sample_rate: int | None = None  # Hz, first audio stream
    channels: int | None = None
    container: str | None = None  # ffprobe's format_name: "mov,mp4,m4a,3gp,3g2,mj2", ...
    tags: MediaTags | None = None
    # What poster.jpg shows: "cover_art" (embedded picture) or "waveform" (audio drawn):
    # analysis looks at a cover, not at a waveform.
    poster_source: str | None = None


class Progress(_Model):
    """Where a long ingest is (a long video's transcode); cleared when it ends."""

    stage: str
    fraction: float = Field(ge=0, le=1)


class Exposure(_Model):
    """How the picture was taken, as ExifTool prints it for people."""

    program: str | None = None  # "Aperture-priority AE" (EXIF ExposureProgram 3)
    flash: str | None = None  # "Off, Did not fire" (EXIF Flash 16)
    iso: int | None = None
    f_number: float | None = None
    exposure_time: str | None = None  # "1/75"
    focal_length: str | None = None  # "35.0 mm"


class Metadata(_Model):
    camera: dict[str, str] | None = None  # make, model and name (make not repeated)
    lens: str | None = None
    exposure: Exposure | None = None
    taken_at: str | None = None
    gps: dict[str, float] | None = None
    pages: int | None = None  # documents, multi-page TIFF/PDF, as the file states it
    duration: float | None = None  # seconds: animations, image sequences
    exif: dict[str, Any] = Field(default_factory=dict)
    iptc: dict[str, Any] = Field(default_factory=dict)
    xmp: dict[str, Any] = Field(default_factory=dict)

    def camera_name(self) -> str | None:
        """The camera as people name it; manifests from before `name` have make + model."""
        camera = self.camera or {}
        name = camera.get("name") or " ".join(
            v for v in (camera.get("make"), camera.get("model")) if v
        )
        return name or None


class Manifest(_Model):
    id: str
    schema_: int = Field(default=SCHEMA_VERSION, alias="schema")
    status: Status = "queued"
    error: AssetError | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    pre_render_sizes: bool = False
    # "api": bytes came through POST /v1/assets; "presigned": the client PUT them to S3,
    # and the upload event enqueues the job (size and sha256 are filled by the worker).
    upload_via: Literal["api", "presigned"] = "api"
    # An upload whose bytes (sha256) an existing asset already has: that asset's id. The
    # upload is still accepted (ingest_worker/http/sha256_index.py).
    duplicate_of: str | None = None
    attempts: int = 0
    source: Source
    kind: Kind | None = None
    image: ImageInfo | None = None  # videos and audio: their poster's
    media: MediaInfo | None = None  # videos and audio
    progress: Progress | None = None
    metadata: Metadata | None = None
    derivatives: dict[str, DerivativeInfo] = Field(default_factory=dict)
    analysis: Analysis | None = None
    placeholders: dict[str, Any] | None = None

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @property
    def version(self) -> str:
        """Changes whenever the asset's content or derivatives change (for ETags)."""
        return f"{self.source.sha256[:16]}.{int(self.updated_at.timestamp() * 1000)}"

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, indent=2).encode()


def load_manifest(store: ObjectStore, asset_id: str) -> Manifest | None:
    try:
        raw = store.get_bytes(manifest_key(asset_id))
    except ObjectNotFound:
        return None
    return Manifest.model_validate_json(raw)


def save_manifest(store: ObjectStore, manifest: Manifest) -> None:
    """Write the manifest atomically; callers write it last, after the objects it names."""
    manifest.updated_at = utcnow()
    store.put_bytes(manifest_key(manifest.id), manifest.to_json(), "application/json")
