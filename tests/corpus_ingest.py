"""The whole corpus through the real pipeline once per test session.

Two tests read it: tests/ingest_worker/test_corpus.py checks how each file ended, and
tests/end_to_end/test_corpus_renders.py renders the ready ones. Ingesting ~200 files
takes about a minute; doing it once instead of twice is what this module is for.
"""

from dataclasses import dataclass, field
from pathlib import Path

from shared.manifest import Manifest
from shared.settings import Settings
from shared.storage import ObjectStore
from shared.storage.local import LocalStore
from tests.helpers import API_KEY, CORPUS, corpus_rows


@dataclass
class CorpusIngest:
    settings: Settings
    store: ObjectStore
    rows: list[dict[str, str]]
    assets: dict[str, Manifest] = field(default_factory=dict)  # corpus path → its manifest


def ingest_corpus(folder: Path) -> CorpusIngest:
    """Each corpus file as an asset with web samples asked for, processed in order."""
    from ingest_worker import pipeline  # here, not at import: delivery's tests load conftest
    from shared.ids import new_id
    from shared.keys import original_key
    from shared.manifest import Source, save_manifest

    settings = Settings(data_dir=folder / "data", api_keys=[API_KEY])
    store = LocalStore(settings.data_dir / "objects")
    run = CorpusIngest(settings, store, corpus_rows())
    for row in run.rows:
        relpath = row["path"]
        data = (CORPUS / relpath).read_bytes()
        asset_id = new_id()
        store.put_bytes(original_key(asset_id), data)
        source = Source(filename=relpath.rsplit("/", 1)[-1], size=len(data), sha256="0")
        save_manifest(store, Manifest(id=asset_id, pre_render_sizes=True, source=source))
        run.assets[relpath] = pipeline.process(asset_id, settings, store)
    return run
