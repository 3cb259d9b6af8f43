"""Search index: `embedded` (SQLite FTS5 + vectors) or `opensearch` (`PICSHA_SEARCH`)."""

from pathlib import Path

from shared.search.base import (
    Filters,
    IndexDoc,
    InvalidCursor,
    SearchHit,
    SearchIndex,
    SearchPage,
)
from shared.settings import Settings

__all__ = [
    "Filters",
    "IndexDoc",
    "InvalidCursor",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "index_path",
    "open_index",
]


def index_path(settings: Settings) -> Path:
    return settings.search_index_path or settings.data_dir / "index" / "search.sqlite3"


def open_index(settings: Settings) -> SearchIndex:
    if settings.search == "opensearch":
        from shared.search.opensearch import OpenSearchIndex

        if not settings.opensearch_url:
            raise ValueError("PICSHA_SEARCH=opensearch needs PICSHA_OPENSEARCH_URL")
        # The vector field's size is fixed by the mapping: the provider's embedding size.
        dim = 1024 if settings.ai == "bedrock" else 384
        return OpenSearchIndex.from_url(
            settings.opensearch_url, settings.opensearch_index, dim,
            auth=settings.opensearch_auth, region=settings.aws_region,
            min_similarity=settings.search_min_similarity,
        )  # fmt: skip
    from shared.search.embedded import EmbeddedIndex

    return EmbeddedIndex(index_path(settings), settings.search_min_similarity)
