"""`picsha reindex` and `picsha search` on a data folder of manifests."""

from typer.testing import CliRunner

from picsha.cli import app
from shared.ids import new_id
from shared.manifest import Manifest, Source, save_manifest
from shared.storage.local import LocalStore


def test_reindex_then_search_prints_a_table(tmp_path):
    data = tmp_path / "data"
    store = LocalStore(data / "objects")
    asset = Manifest(
        id=new_id(),
        status="ready",
        kind="image",
        source=Source(filename="lighthouse_at_dusk.jpg", size=1, sha256="0" * 64),
        analysis={"status": "done", "labels": [{"name": "beacon, lighthouse", "confidence": 0.8}]},
    )
    save_manifest(store, asset)
    save_manifest(store, Manifest(id=new_id(), source=Source(filename="q.jpg", size=1, sha256="1")))
    runner = CliRunner()
    result = runner.invoke(app, ["reindex", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "indexed 1 ready assets of 2" in result.output
    result = runner.invoke(app, ["search", "lighthouse", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert asset.id in result.output and "beacon" in result.output
    result = runner.invoke(app, ["search", 'NEAR("*', "--data-dir", str(data)])
    assert result.exit_code == 0 and "0 results" in result.output
