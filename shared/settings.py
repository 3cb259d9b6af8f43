"""Configuration from `PICSHA_*` environment variables; embedded defaults need nothing."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PICSHA_", extra="ignore")

    data_dir: Path = Path("./picsha-data")
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    signing_key: str | None = None

    storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_presign_seconds: int = 3600

    # Empty means embedded: Celery's filesystem transport under data_dir, no server process.
    broker_url: str = ""
    search: Literal["embedded", "opensearch"] = "embedded"
    opensearch_url: str | None = None
    ai: Literal["local", "bedrock"] = "local"

    max_upload_bytes: int = 2 * 1024**3
    # What /healthz tells clients about uploads (`picsha ingest`, the console): presigned
    # only where bucket upload events enqueue the job (the CDK stack), and the largest
    # request body in front of the API (API Gateway: ~4 MB; None: no such limit).
    presigned_uploads: bool = False
    max_body_bytes: int | None = Field(default=None, ge=0)
    max_source_pixels: int = 100_000_000
    render_max_side: int = 4096
    render_max_pixels: int = 40_000_000
    cache_control: str = "public, max-age=86400, immutable"
    # Bodies above this are stored under renders/ and redirected to: API Gateway caps a
    # Lambda response at 6 MB, and base64 grows a body by a third.
    render_max_body_bytes: int = 4_500_000
    render_result_store: bool = False  # keep every render under renders/ for reuse
    manifest_cache_seconds: float = 10.0
    # Concurrent renders (default: one per core) and how many may wait for a slot.
    render_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 2)
    render_queue: int = Field(default_factory=lambda: 2 * (os.cpu_count() or 2))
    render_queue_seconds: float = 5.0
    # Give freed malloc memory back to the OS at most this often after renders (0: never);
    # without it a render server's RSS ratchets up by hundreds of MB (shared/memory.py).
    memory_trim_seconds: float = 2.0

    # Reliability: the sweeper re-enqueues assets stuck this long, failing them as `stuck`
    # after max_attempts runs; the broker redelivers an unacked job after the visibility
    # timeout, which must stay above the task time limit.
    stuck_after_seconds: int = 900
    max_attempts: int = 3
    sweep_interval_seconds: float = 60.0
    broker_visibility_timeout: int = 3600
    # Bounds each connect and command to a Redis broker: one that is down or hangs answers
    # `503 queue_unavailable` within seconds instead of holding the request for minutes.
    broker_timeout_seconds: float = 3.0
    asset_lock_seconds: int = 30

    optimized_side: int = 2048
    optimized_quality: int = 80
    thumb_side: int = 150
    # pyramid.tif, the tiled render source made at ingest (shared/pyramid.py); off: none is
    # made, and delivery renders assets ingested from then on from originals and proxies.
    render_pyramid: bool = True

    # Search and AI (issue 5).
    search_index_path: Path | None = None  # embedded index file; default data_dir/index/
    opensearch_index: str = "picsha-assets"
    # Cosine similarity a result found only by its embedding needs (-1: no floor); unset,
    # the floor calibrated for the embedding model (shared/search/base.py).
    search_min_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)
    # auto: SigV4-sign requests to *.amazonaws.com domains (the CDK's domain policy demands
    # it), send them plain elsewhere (a self-hosted cluster, tests).
    opensearch_auth: Literal["auto", "sigv4", "none"] = "auto"
    aws_region: str = "us-east-1"  # Bedrock and Rekognition
    rekognition_collection: str | None = None  # IndexFaces into it for people search
    bedrock_embed_model: str = "amazon.titan-embed-image-v1"
    bedrock_text_model: str = "anthropic.claude-sonnet-4-6"
    bedrock_image_model: str = "amazon.titan-image-generator-v2:0"
    # Image edits (`/render?edit=`, delivery/edits.py): the wall-clock bound on one model call
    # (then 504), model calls per minute per client IP (token bucket, in-process; 0: no
    # limit) with a burst, and words a prompt may not contain (comma-separated, any case).
    edit_timeout_seconds: float = Field(default=30.0, gt=0)
    edit_rate_per_minute: float = Field(default=30.0, ge=0)
    edit_rate_burst: int = Field(default=10, ge=1)
    edit_prompt_denylist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The request header a trusted CDN puts the viewer's address in (CloudFront:
    # CloudFront-Viewer-Address, when the origin request policy forwards it); unset, the
    # rate limit counts the connecting address, which behind a CDN is its edge.
    edit_client_header: str | None = None
    analysis_enabled: bool = True  # false: no analysis task after ingest (e.g. for benches)
    # Wall-clock bound on one external conversion (LibreOffice, Ghostscript); the whole
    # process tree is killed when it runs out and the asset fails `conversion_timeout`.
    convert_timeout_seconds: float = 120.0
    soffice: str = "soffice"  # the LibreOffice binary
    # Video and audio (stages/video.py): longer sources fail `too_long` before any decoding
    # (4 h: a feature film or a long recording; the cap bounds transcode time and disk).
    # Each ffmpeg run may take media_timeout_seconds + media_timeout_per_second * duration
    # before its process group is killed and the asset fails `timeout`.
    max_media_seconds: float = Field(default=4 * 3600.0, gt=0)
    media_timeout_seconds: float = Field(default=60.0, gt=0)
    media_timeout_per_second: float = Field(default=3.0, ge=0)
    # The converter container beside the worker (docker/libreoffice); unset: soffice here.
    converter_url: str | None = None

    # Process set-up, read here like every other PICSHA_* variable.
    log_level: str = "INFO"
    worker_metrics_port: int | None = None  # a worker on its own serves /metrics there
    jemalloc: bool = True  # `picsha serve` re-executes with jemalloc preloaded (shared/memory.py)
    # The bundled libvips folder, or "0" for the system one; unset: <venv>/libvips-bundle.
    libvips_bundle: str = ""

    @field_validator("api_keys", "edit_prompt_denylist", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    def media_timeout(self, duration: float | None) -> float:
        """Wall-clock bound on one ffmpeg run over `duration` seconds of media."""
        return self.media_timeout_seconds + self.media_timeout_per_second * (duration or 0)

    @property
    def ingest_time_limit_seconds(self) -> float:
        """Celery's soft limit on one ingest job: 10 minutes, or what the longest video
        allowed may take (poster and proxy runs, each under its own timeout), if more.
        A job past it fails `timeout`; its converters are bounded well before that."""
        return max(600.0, 2 * self.media_timeout(self.max_media_seconds) + 60)

    @property
    def embedded_broker(self) -> bool:
        return not self.broker_url

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"


class ClientSettings(BaseSettings):
    """What the CLI client reads: the server to talk to and its key (picsha/client.py)."""

    model_config = SettingsConfigDict(env_prefix="PICSHA_", extra="ignore")

    url: str | None = None
    api_key: str | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
