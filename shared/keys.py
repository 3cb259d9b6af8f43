"""Storage keys of an asset's objects (DESIGN.md, 'Object store is the source of truth')."""

from typing import Literal

ASSETS_PREFIX = "assets"
RENDERS_PREFIX = "renders"

Derivative = Literal[
    "proxy",
    "proxy_alpha",
    "optimized",
    "thumb",
    "document",
    "poster",
    "pyramid",
    "proxy_video",
    "preview",
    "proxy_audio",
]

DERIVATIVE_FILES: dict[str, str] = {
    "proxy": "proxy.jpg",
    "proxy_alpha": "proxy.png",  # beside proxy.jpg when the image has transparency
    "optimized": "optimized.webp",
    "thumb": "thumb.webp",
    "document": "document.pdf",
    "poster": "poster.jpg",
    "pyramid": "pyramid.tif",  # tiled render source, half size and below (shared/pyramid.py)
    "proxy_video": "proxy.mp4",  # H.264 + AAC, <= 1080p, faststart: plays in every browser
    "preview": "preview.mp4",  # a few silent seconds, small: the grid plays it on hover
    "proxy_audio": "proxy.m4a",  # AAC: plays in every browser
}


def asset_prefix(asset_id: str) -> str:
    return f"{ASSETS_PREFIX}/{asset_id}/"


def original_key(asset_id: str) -> str:
    return f"{ASSETS_PREFIX}/{asset_id}/original"


def manifest_key(asset_id: str) -> str:
    return f"{ASSETS_PREFIX}/{asset_id}/manifest.json"


def derivative_key(asset_id: str, name: Derivative) -> str:
    return f"{ASSETS_PREFIX}/{asset_id}/{DERIVATIVE_FILES[name]}"
