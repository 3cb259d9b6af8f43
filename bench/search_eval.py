"""Search quality and speed: recall@1/@5 on a labelled set, label/face/OCR counts, the
similarity floor of vector hits (a sweep, and recall and result counts with and without it),
and query latency with 100k synthetic entries in the embedded index. A benchmark: it prints
figures and never fails on them.

    .venv/bin/python bench/search_eval.py                 # local models (~2 min) + 100k latency
    .venv/bin/python bench/search_eval.py --record        # also refresh the recorded fixture
    .venv/bin/python bench/search_eval.py --recorded      # index logic only, no models
    .venv/bin/python bench/search_eval.py --skip-latency  # quality only

Images come from installed packages (scikit-image; Debian opencv-doc and darknet, group
`bench` of system-packages.txt) and ../shared/corpus; sources that are absent are skipped
and counted. The set and its truths are in bench/search_eval.json.
"""

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest_worker.stages import analysis  # noqa: E402
from shared.ids import new_id  # noqa: E402
from shared.keys import original_key  # noqa: E402
from shared.manifest import Manifest, Source  # noqa: E402
from shared.search import Filters, IndexDoc  # noqa: E402
from shared.search.base import SIMILARITY_FLOORS  # noqa: E402
from shared.search.document import doc_from_manifest  # noqa: E402
from shared.search.embedded import EmbeddedIndex  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.storage.local import LocalStore  # noqa: E402

EVAL = REPO / "bench" / "search_eval.json"
RECORDED = REPO / "bench" / "search_eval_recorded.json"
CORPUS = Path(os.environ.get("PICSHA_CORPUS", REPO.parent / "shared" / "corpus"))
OPENCV = Path(os.environ.get("PICSHA_OPENCV_DATA", "/usr/share/doc/opencv-doc/examples/data"))
DARKNET = Path(os.environ.get("PICSHA_DARKNET_DATA", "/usr/share/darknet/data"))


def load_source(source: str) -> bytes | None:
    """The image bytes of an eval item, or None when its package/corpus is not here."""
    scheme, _, rel = source.partition(":")
    if scheme == "skimage":
        import pyvips
        from skimage import data

        loaded = getattr(data, rel)()
        array = np.asarray(loaded[0] if isinstance(loaded, tuple) else loaded)  # stereo: left
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        image = pyvips.Image.new_from_array(np.ascontiguousarray(array[..., :3]))
        return image.copy(interpretation="srgb").pngsave_buffer()
    base = {"opencv": OPENCV, "darknet": DARKNET, "corpus": CORPUS}[scheme]
    path = (base / rel).resolve()
    return path.read_bytes() if path.is_file() else None


# -- analysis -----------------------------------------------------------------------------
def analyse_set(items: list[dict], provider) -> tuple[list[dict], list[str], dict]:
    """Run the real analysis stage on every available item; returns records + timings."""
    tmp = Path(tempfile.mkdtemp(prefix="picsha-eval-"))
    settings = Settings(data_dir=tmp)
    store = LocalStore(tmp / "objects")
    records, missing, seconds = [], [], []
    for n, item in enumerate(items):
        data = load_source(item["source"])
        if data is None:
            missing.append(item["source"])
            continue
        # A neutral file name, as a phone upload has: the words must come from the pixels.
        manifest = Manifest(
            id=new_id(),
            status="ready",
            kind="image",
            source=Source(filename=f"IMG_{n:04d}.jpg", size=len(data), sha256=new_id()),
        )
        store.put_bytes(original_key(manifest.id), data)
        start = time.perf_counter()
        manifest.analysis = analysis.analyze(manifest, settings, store, provider)
        seconds.append(time.perf_counter() - start)
        if manifest.analysis.status != "done":
            print(f"  {item['source']}: analysis {manifest.analysis}", file=sys.stderr)
            continue
        records.append({"item": item, "manifest": manifest.model_dump(mode="json", by_alias=True)})
    timing = {
        "images": len(seconds),
        "mean_s": statistics.mean(seconds) if seconds else 0,
        "max_s": max(seconds) if seconds else 0,
    }
    return records, missing, timing


def accuracy(records: list[dict]) -> dict[str, str]:
    labels_ok = labels_n = faces_ok = faces_n = ocr_found = ocr_n = 0
    misses: list[str] = []
    for rec in records:
        item, a = rec["item"], rec["manifest"]["analysis"]
        if "labels_any" in item:
            labels_n += 1
            top5 = " | ".join(lb["name"] for lb in a["labels"][:5]).lower()
            if any(word in top5 for word in item["labels_any"]):
                labels_ok += 1
            else:
                misses.append(f"labels {item['source']}: {top5 or '(none)'}")
        if "faces" in item:
            faces_n += 1
            if len(a["faces"]) == item["faces"]:
                faces_ok += 1
            else:
                misses.append(f"faces {item['source']}: {len(a['faces'])} vs {item['faces']}")
        if "ocr" in item:
            words = fold(a["ocr_text"])
            for word in item["ocr"]:
                ocr_n += 1
                ocr_found += word in words
            if not all(w in words for w in item["ocr"]):
                misses.append(f"ocr {item['source']}: {a['ocr_text'][:80]!r}")
    for line in misses:
        print(f"  miss: {line}")
    return {
        "labels (any expected word in top 5)": f"{labels_ok}/{labels_n}",
        "face count exact": f"{faces_ok}/{faces_n}",
        "OCR words read": f"{ocr_found}/{ocr_n}",
    }


def fold(text: str) -> str:
    """Lower case without accents: "galleríes" counts as "galleries", as search folds it."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def lfw_faces(provider) -> str:
    """skimage's LFW subset: 100 face crops then 100 non-face crops (25x25, upscaled)."""
    import pyvips
    from skimage import data

    crops = data.lfw_subset()
    found = []
    for crop in crops:
        grey = pyvips.Image.new_from_array((np.asarray(crop) * 255).astype(np.uint8))
        # Centre the crop on a plain canvas: the full-range model expects some context.
        face = grey.resize(96 / grey.width, kernel="lanczos3").gravity(
            "centre", 192, 192, extend="copy"
        )
        jpeg = face.bandjoin([face, face]).copy(interpretation="srgb").jpegsave_buffer(Q=95)
        found.append(len(provider.faces(jpeg)) > 0)
    return f"faces found on {sum(found[:100])}/100 face crops, {sum(found[100:])}/100 non-faces"


# -- recall -------------------------------------------------------------------------------
def build_index(records: list[dict], path: Path) -> tuple[EmbeddedIndex, dict[str, str]]:
    index = EmbeddedIndex(path)
    index.clear()
    owner = {}
    for rec in records:
        manifest = Manifest.model_validate(rec["manifest"])
        index.upsert(doc_from_manifest(manifest))
        owner[manifest.id] = rec["item"]["source"]
    return index, owner


def recall(index: EmbeddedIndex, records: list[dict], query_vectors: dict, model: str) -> dict:
    """By mode: (recall@1, recall@5, queries, mean number of results per query)."""
    out = {}
    by_source = {rec["item"]["source"]: rec["manifest"]["id"] for rec in records}
    for mode in ("hybrid", "keyword", "vector"):
        at1 = at5 = total = results = 0
        for rec in records:
            for q in rec["item"]["queries"]:
                page = search_mode(index, mode, q, query_vectors, model, limit=5)
                ids = [h.id for h in page.hits]
                target = by_source[rec["item"]["source"]]
                total += 1
                at1 += ids[:1] == [target]
                at5 += target in ids
                results += page.total
        n = total or 1
        out[mode] = (at1 / n, at5 / n, total, results / n)
    return out


def search_mode(index: EmbeddedIndex, mode: str, q: str, vectors: dict, model: str, limit: int):
    vec = vectors[q] if mode != "keyword" else None
    text = q if mode != "vector" else ""
    return index.search(text, vec, model if vec is not None else None, limit=limit)


def nonsense_results(
    index: EmbeddedIndex, nonsense: list[str], vectors: dict, model: str
) -> list[int]:
    """How many results each query that should find nothing gets (hybrid, as served)."""
    return [search_mode(index, "hybrid", q, vectors, model, limit=1).total for q in nonsense]


def floor_sweep(records: list[dict], nonsense: list[str], vectors: dict) -> float:
    """Vector candidates kept at each floor: precision (the query's own item among all kept,
    nonsense queries included: a lower bound, other items may be relevant too), recall and
    F1. Returns the floor of the best F1."""
    matrix = np.stack([doc_from_manifest(Manifest.model_validate(r["manifest"])).vector
                       for r in records])  # fmt: skip
    real = [(matrix @ vectors[q], i) for i, r in enumerate(records) for q in r["item"]["queries"]]
    junk = [matrix @ vectors[q] for q in nonsense]
    print(f"\nsimilarity floor of vector-only hits ({len(real)} queries, {len(junk)} nonsense)")
    print(f"{'floor':>6} {'kept':>5} {'own item':>8} {'P':>5} {'R':>5} {'F1':>5}  nonsense kept")
    best = (-1.0, 0.0)
    for floor in np.round(np.arange(0.78, 0.8751, 0.005), 3):
        kept = sum(int((s >= floor).sum()) for s, _ in real)
        own = sum(bool(s[i] >= floor) for s, i in real)
        junk_kept = sum(int((s >= floor).sum()) for s in junk)
        p = own / max(kept + junk_kept, 1)
        r = own / len(real)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        best = max(best, (round(f1, 3), float(floor)))
        print(f"{floor:6.3f} {kept:5d} {own:8d} {p:5.2f} {r:5.2f} {f1:5.2f}  {junk_kept}")
    print(f"best F1 at floor {best[1]:.3f}")
    return best[1]


def floor_effect(
    index: EmbeddedIndex, records: list[dict], nonsense: list[str], vectors: dict, model: str
) -> None:
    """Recall, results per query and nonsense results without and with the floor."""
    configured = SIMILARITY_FLOORS.get(model)
    print(f"\n{'':<20} {'recall@1':>9} {'recall@5':>9} {'results/query':>14}  nonsense results")
    for name, floor in (("no floor", -1.0), (f"floor {configured}", None)):
        index.min_similarity = floor
        rows = recall(index, records, vectors, model)
        junk = nonsense_results(index, nonsense, vectors, model) if nonsense else []
        for mode in ("hybrid", "vector"):
            r1, r5, _, per_query = rows[mode]
            shown = " ".join(map(str, junk)) if mode == "hybrid" else ""
            print(f"{mode + ', ' + name:<20} {r1:9.2f} {r5:9.2f} {per_query:14.1f}  {shown}")
    index.min_similarity = None


# -- latency ------------------------------------------------------------------------------
def synthetic_docs(n: int, dim: int, model: str, rng: np.random.Generator):
    names = (REPO / "shared/ai/local/imagenet_classes.txt").read_text().splitlines()
    words = sorted({w for name in names for w in name.replace(",", " ").lower().split()})
    for i in range(n):
        labels = [names[j] for j in rng.integers(0, len(names), 3)]
        text = " ".join(words[j] for j in rng.integers(0, len(words), 12))
        vector = rng.standard_normal(dim).astype(np.float32)
        yield IndexDoc(
            id=f"syn{i:07d}",
            kind="image" if i % 5 else "document",
            mime="image/jpeg",
            filename=f"IMG_{i:07d}.jpg",
            labels=labels,
            description=f"A photo of {'; '.join(labels)}. {text}",
            has_faces=bool(i % 7 == 0),
            face_count=int(i % 7 == 0),
            camera="NIKON D70" if i % 3 == 0 else "Canon EOS 6D",
            date=f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00",
            created_at="2026-01-01T00:00:00",
            embedding_model=model,
            vector=vector,
        )


def latency(entries: int, query_vectors: dict, model: str, dim: int) -> None:
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="picsha-lat-") as tmp:
        index = EmbeddedIndex(Path(tmp) / "search.sqlite3")
        start = time.perf_counter()
        index.upsert_many(synthetic_docs(entries, dim, model, rng))
        print(f"\n{entries} synthetic entries inserted in {time.perf_counter() - start:.1f} s")
        queries = list(query_vectors.items())
        writer = EmbeddedIndex(Path(tmp) / "search.sqlite3")  # as a worker process would
        fresh = iter(
            IndexDoc(
                id=d.id.replace("syn", "new"), **{k: v for k, v in d.__dict__.items() if k != "id"}
            )
            for d in synthetic_docs(len(queries), dim, model, rng)
        )
        cold = time.perf_counter()
        index.search(queries[0][0], queries[0][1], model, limit=20)
        print(f"first query (loads the {entries}x{dim} matrix): "
              f"{(time.perf_counter() - cold) * 1000:.0f} ms")  # fmt: skip
        cases = {
            "hybrid (keyword + vector)": lambda q, v: index.search(q, v, model, limit=20),
            "keyword only": lambda q, v: index.search(q, None, None, limit=20),
            "vector only": lambda q, v: index.search("", v, model, limit=20),
            "hybrid + has_faces filter": lambda q, v: index.search(
                q, v, model, Filters(has_faces=True), limit=20
            ),
            "browse, camera filter": lambda q, v: index.search(
                "", None, None, Filters(camera="nikon"), limit=20
            ),
            # A worker ingesting meanwhile: every query follows a write by another process.
            "hybrid after another write": lambda q, v: (
                writer.upsert(next(fresh)),
                index.search(q, v, model, limit=20),
            ),
        }
        print(f"{'query':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  (n={len(queries)})")
        for name, run in cases.items():
            times = []
            for q, v in queries:
                t = time.perf_counter()
                run(q, v)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            print(f"{name:<28} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}")
        index.close()


# -- fixture ------------------------------------------------------------------------------
def record(records: list[dict], query_vectors: dict, model: str) -> None:
    slim = []
    for rec in records:
        m = rec["manifest"]
        keep = ("labels", "faces", "ocr_text", "description", "alt_text", "embedding", "dhash")
        m["analysis"] = {k: m["analysis"].get(k) for k in keep} | {"status": "done"}
        slim.append({"item": rec["item"], "manifest": m})
    payload = {
        "model": model,
        "records": slim,
        "queries": {q: base64.b64encode(v.astype("<f4").tobytes()).decode()
                    for q, v in query_vectors.items()},
    }  # fmt: skip
    RECORDED.write_text(json.dumps(payload, indent=0, ensure_ascii=False) + "\n")
    print(f"recorded {len(slim)} analysed items and {len(query_vectors)} queries → {RECORDED}")


def load_recorded() -> tuple[list[dict], dict, str]:
    payload = json.loads(RECORDED.read_text())
    vectors = {
        q: np.frombuffer(base64.b64decode(b), dtype="<f4").astype(np.float32)
        for q, b in payload["queries"].items()
    }
    return payload["records"], vectors, payload["model"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--recorded", action="store_true", help="index logic on the recorded fixture")
    ap.add_argument("--record", action="store_true", help="write the recorded fixture")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--entries", type=int, default=100_000, help="synthetic index size")
    args = ap.parse_args()
    eval_set = json.loads(EVAL.read_text())
    items, nonsense = eval_set["items"], eval_set.get("nonsense", [])

    if args.recorded:
        records, query_vectors, model = load_recorded()
        print(f"recorded fixture: {len(records)} items, model {model}")
        nonsense = [q for q in nonsense if q in query_vectors]  # older recordings lack them
    else:
        from shared.ai.local.provider import LocalProvider

        provider = LocalProvider()
        provider.check()
        print(f"analysing {len(items)} items with the local models ...")
        records, missing, timing = analyse_set(items, provider)
        print(f"analysed {timing['images']} images: mean {timing['mean_s']:.2f} s, "
              f"max {timing['max_s']:.2f} s per image (2 shared cores)")  # fmt: skip
        if missing:
            print(f"skipped (source not installed): {len(missing)}: {', '.join(missing)}")
        for name, value in accuracy(records).items():
            print(f"{name:<40} {value}")
        print(lfw_faces(provider))
        model = provider.embedding_model
        queries = [q for rec in records for q in rec["item"]["queries"]] + nonsense
        query_vectors = {q: provider.embed_query(q).vector for q in queries}
        if args.record:
            record(records, query_vectors, model)

    with tempfile.TemporaryDirectory(prefix="picsha-recall-") as tmp:
        index, _ = build_index(records, Path(tmp) / "search.sqlite3")
        print(f"\n{'mode':<10} {'recall@1':>9} {'recall@5':>9}  queries (as served)")
        for mode, (r1, r5, n, _) in recall(index, records, query_vectors, model).items():
            print(f"{mode:<10} {r1:9.2f} {r5:9.2f}  {n}")
        floor_sweep(records, nonsense, query_vectors)
        floor_effect(index, records, nonsense, query_vectors, model)
        index.close()

    if not args.skip_latency:
        dim = len(next(iter(query_vectors.values())))
        latency(args.entries, query_vectors, model, dim)


if __name__ == "__main__":
    main()
