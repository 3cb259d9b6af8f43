"""Near-duplicates: the embedding narrows the library to the nearest candidates, the
perceptual hash (dHash) decides. With local "describe, then embed" vectors, two different
photos of tabby cats describe alike, so the vector alone would call them duplicates; the
hash of the pixels does not."""

from shared.manifest import Duplicate, Manifest, load_manifest, save_manifest
from shared.search import SearchIndex
from shared.storage import ObjectStore

HASH_BITS = 6  # of 64: survives resizing and recompression, not a different photo
COSINE = 0.97  # only when a candidate has no hash to compare (e.g. a document)
CANDIDATES = 50


def find(manifest: Manifest, index: SearchIndex, store: ObjectStore) -> list[Duplicate]:
    mine = manifest.analysis.dhash if manifest.analysis else None
    found = []
    for hit in index.similar(manifest.id, CANDIDATES):
        other = load_manifest(store, hit.id)
        theirs = other.analysis.dhash if other and other.analysis else None
        bits = hamming(mine, theirs)
        if (bits is not None and bits <= HASH_BITS) or (bits is None and hit.score >= COSINE):
            found.append(Duplicate(id=hit.id, hash_distance=bits, cosine=round(hit.score, 4)))
    return found


def record(manifest: Manifest, index: SearchIndex, store: ObjectStore) -> Manifest:
    """Store the near-duplicates found now in `analysis.duplicates` (later uploads show up
    in GET /v1/assets/{id}/duplicates, which asks again)."""
    duplicates = find(manifest, index, store)
    latest = load_manifest(store, manifest.id)
    if latest is None or not latest.analysis:
        return manifest
    latest.analysis.duplicates = duplicates
    save_manifest(store, latest)
    return latest


def hamming(a: str | None, b: str | None) -> int | None:
    if not a or not b:
        return None
    return bin(int(a, 16) ^ int(b, 16)).count("1")
