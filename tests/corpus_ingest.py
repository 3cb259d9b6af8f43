"""The whole corpus through the real pipeline once per test session.

Two tests read it: tests/ingest_worker/test_corpus.py checks how each file ended, and
tests/end_to_end/test_corpus_renders.py renders the ready ones. Ingesting ~200 files
takes about a minute; doing it once instead of twice is what this module is for.
"""

from pathlib import Path

from shared.manifest import Manifest
from shared.settings import Settings
from shared.storage import ObjectStore
from shared.storage.local import LocalStore
from tests.helpers import API_KEY, CORPUS, corpus_rows


class CorpusIngest:
    """Corpus files as assets with web samples asked for, each ingested the first time a
    test asks for it: the render check alone (delivery's second libvips pass) leaves the
    documents, which LibreOffice would take a minute over, alone."""

    def __init__(self, folder: Path) -> None:
        self.settings = Settings(data_dir=folder / "data", api_keys=[API_KEY])
        self.store: ObjectStore = LocalStore(self.settings.data_dir / "objects")
        self.rows = corpus_rows()
        self._assets: dict[str, Manifest] = {}

    def asset(self, relpath: str) -> Manifest:
        """The manifest `relpath` ended with, ingested now if no test asked before."""
        if relpath not in self._assets:
            self._assets[relpath] = self._ingest(relpath)
        return self._assets[relpath]

    def _ingest(self, relpath: str) -> Manifest:
        from ingest_worker import pipeline  # here, not at import: delivery's tests load conftest
        from shared.ids import new_id
        from shared.keys import original_key
        from shared.manifest import Source, save_manifest

        data = (CORPUS / relpath).read_bytes()
        asset_id = new_id()
        self.store.put_bytes(original_key(asset_id), data)
        source = Source(filename=relpath.rsplit("/", 1)[-1], size=len(data), sha256="0")
        save_manifest(self.store, Manifest(id=asset_id, pre_render_sizes=True, source=source))
        return pipeline.process(asset_id, self.settings, self.store)
