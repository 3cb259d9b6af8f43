"""OpenSearch SearchIndex (opensearch-py): BM25 over text fields + `knn_vector` (HNSW).

Hybrid ranking is the same reciprocal rank fusion as the embedded index, computed here from
one `_msearch` round trip (a BM25 query and a k-NN query with the same filters). That keeps
the two backends' rankings comparable and needs no neural-search plugin or search pipeline.
"""

from typing import Any
from urllib.parse import urlparse

import numpy as np

from shared.search.base import (
    Filters,
    IndexDoc,
    SearchHit,
    SearchIndex,
    SearchPage,
    decode_cursor,
    encode_cursor,
    fingerprint,
    fuse,
    label_terms,
    matched_fields,
    normalise,
    query_terms,
    similarity_floor,
)

KEYWORD_CANDIDATES = 500
BULK_BATCH = 500
VECTOR_CANDIDATES = 200
# The same weights as the embedded index's bm25() columns.
TEXT_FIELDS = ["filename^2", "labels^3", "description", "ocr_text^1.5", "metadata_text"]
_TEXT = {"type": "text", "analyzer": "folded"}
_KEYWORD_LC = {"type": "keyword", "normalizer": "lowercase"}
# Fields added after the first indices were made: put into an existing index's mapping
# (adding fields is allowed; the mapping is strict, so a document with them would fail).
MEDIA_PROPERTIES: dict[str, Any] = {
    "duration": {"type": "float"},  # seconds, videos and audio
    "codecs": _KEYWORD_LC,
}


def index_body(dim: int) -> dict[str, Any]:
    """Settings and mappings (also used as the index template's `template`)."""
    return {
        "settings": {
            "index": {"knn": True, "number_of_shards": 1},
            "analysis": {
                "analyzer": {
                    # Like FTS5's unicode61 remove_diacritics: "Café" matches "cafe".
                    "folded": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}
                },
                "normalizer": {"lowercase": {"type": "custom", "filter": ["lowercase"]}},
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                "kind": {"type": "keyword"},
                "mime": {"type": "keyword"},
                "filename": {**_TEXT, "fields": {"raw": {"type": "keyword"}}},
                "labels": _TEXT,
                "label_terms": _KEYWORD_LC,  # whole labels and their synonyms, for `label=`
                "description": _TEXT,
                "ocr_text": _TEXT,
                "alt_text": {"type": "text", "index": False},
                "metadata_text": _TEXT,
                "has_faces": {"type": "boolean"},
                "face_count": {"type": "integer"},
                "camera": {**_TEXT, "fields": {"raw": _KEYWORD_LC}},
                "date": {"type": "date"},
                "created_at": {"type": "date"},
                **MEDIA_PROPERTIES,
                "embedding_model": {"type": "keyword"},
                "vector": {
                    "type": "knn_vector",
                    "dimension": dim,
                    "method": {
                        "name": "hnsw",
                        "engine": "lucene",  # filtered k-NN without a plugin-side faiss build
                        "space_type": "cosinesimil",
                        "parameters": {"m": 16, "ef_construction": 128},
                    },
                },
            },
        },
    }


class OpenSearchIndex(SearchIndex):
    def __init__(
        self,
        client: Any,
        index: str = "picsha-assets",
        dim: int = 384,
        min_similarity: float | None = None,  # None: the model's calibrated floor
    ) -> None:
        self.client = client
        self.index = index
        self.dim = dim
        self.min_similarity = min_similarity
        self._ready = False

    @classmethod
    def from_url(
        cls,
        url: str,
        index: str,
        dim: int = 384,
        auth: str = "auto",
        region: str | None = None,
        min_similarity: float | None = None,
    ) -> "OpenSearchIndex":
        from opensearchpy import OpenSearch

        client = OpenSearch(
            hosts=[url], http_auth=aws_auth(url, auth, region), timeout=30, max_retries=3,
            retry_on_timeout=True,
        )  # fmt: skip
        return cls(client, index, dim, min_similarity)

    def ping(self, timeout: float = 5) -> str:
        """The cluster's name and version, through the same (signed) client as the index."""
        info = self.client.info(request_timeout=timeout)
        return f"{info.get('cluster_name', '?')} {info.get('version', {}).get('number', '?')}"

    def ensure_index(self) -> None:
        """Index template (so a recreated index keeps the mapping) + the index itself."""
        if self._ready:
            return
        body = index_body(self.dim)
        self.client.indices.put_index_template(
            name=self.index,
            body={"index_patterns": [self.index], "template": body, "priority": 100},
        )
        if not self.client.indices.exists(index=self.index):
            self.client.indices.create(index=self.index, body=body, ignore=400)  # raced: fine
        else:
            self.client.indices.put_mapping(index=self.index, body={"properties": MEDIA_PROPERTIES})
        self._ready = True

    # -- writes ---------------------------------------------------------------------------
    def upsert(self, doc: IndexDoc) -> None:
        self.ensure_index()
        self.client.index(index=self.index, id=doc.id, body=_source(doc, self.dim))

    def upsert_many(self, docs) -> int:
        """`_bulk` in batches: a reindex of 100k assets is 200 requests, not 100k."""
        self.ensure_index()
        n = 0
        batch: list[dict[str, Any]] = []
        for doc in docs:
            batch += [{"index": {"_index": self.index, "_id": doc.id}}, _source(doc, self.dim)]
            n += 1
            if len(batch) >= 2 * BULK_BATCH:
                self._bulk(batch)
                batch = []
        if batch:
            self._bulk(batch)
        return n

    def _bulk(self, lines: list[dict[str, Any]]) -> None:
        res = self.client.bulk(body=lines)
        if res.get("errors"):
            failed = [i for i in res.get("items", []) if i.get("index", {}).get("error")]
            raise RuntimeError(f"OpenSearch bulk: {len(failed)} documents failed: {failed[:1]}")

    def delete(self, asset_id: str) -> None:
        self.ensure_index()
        self.client.delete(index=self.index, id=asset_id, ignore=404)

    def clear(self) -> None:
        self.ensure_index()
        self.client.delete_by_query(
            index=self.index, body={"query": {"match_all": {}}}, params={"refresh": "true"}
        )

    # -- reads ----------------------------------------------------------------------------
    def count(self) -> int:
        self.ensure_index()
        return int(self.client.count(index=self.index)["count"])

    def get(self, asset_id: str) -> IndexDoc | None:
        self.ensure_index()
        found = self.client.get(index=self.index, id=asset_id, ignore=404)
        return _doc(found["_source"]) if found.get("found") else None

    def search(
        self,
        text: str,
        vector: np.ndarray | None = None,
        embedding_model: str | None = None,
        filters: Filters | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        self.ensure_index()
        fp = fingerprint(text, filters)
        offset = decode_cursor(cursor, fp) if cursor else 0
        terms = query_terms(text)
        flt = filter_clauses(filters)
        use_vector = vector is not None and bool(embedding_model)
        if not terms and not use_vector:
            body = {
                "query": {"bool": {"filter": flt}},
                "sort": [{"date": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
                "from": offset,
                "size": limit,
                "track_total_hits": True,
            }
            res = self.client.search(index=self.index, body=body)
            docs = [_doc(h["_source"]) for h in res["hits"]["hits"]]
            total = int(res["hits"]["total"]["value"])
            hits = [SearchHit.of(d, 0.0, []) for d in docs]
            more = offset + limit < total
            return SearchPage(hits, encode_cursor(offset + limit, fp) if more else None, total)
        searches: list[dict[str, Any]] = []
        if terms:
            searches += [{"index": self.index}, keyword_query(terms, flt)]
        if use_vector:
            searches += [{"index": self.index}, knn_query(vector, embedding_model, flt)]
        responses = self.client.msearch(body=searches)["responses"]
        for r in responses:
            if "error" in r:
                raise RuntimeError(f"OpenSearch query failed: {r['error']}")
        keyword = [h["_id"] for h in responses[0]["hits"]["hits"]] if terms else []
        # Lucene's cosinesimil score is (1 + cosine) / 2: back to the cosine for the floor.
        nearest = (
            [(h["_id"], 2 * float(h["_score"]) - 1) for h in responses[-1]["hits"]["hits"]]
            if use_vector
            else []
        )
        floor = similarity_floor(embedding_model, self.min_similarity)
        fused, vector_ids = fuse(keyword, nearest, floor)
        page = fused[offset : offset + limit]
        docs = self._mget([i for i, _ in page])
        hits = []
        for doc_id, score in page:
            if doc_id not in docs:
                continue
            matched = matched_fields(docs[doc_id], terms)
            if doc_id in vector_ids:
                matched.append("embedding")
            hits.append(SearchHit.of(docs[doc_id], score, matched))
        more = offset + limit < len(fused)
        return SearchPage(hits, encode_cursor(offset + limit, fp) if more else None, len(fused))

    def similar(self, asset_id: str, limit: int = 10) -> list[SearchHit]:
        doc = self.get(asset_id)
        if doc is None or doc.vector is None or not doc.embedding_model:
            return []
        body = knn_query(doc.vector, doc.embedding_model, [], k=limit + 1)
        body["query"]["knn"]["vector"]["filter"]["bool"]["must_not"] = [
            {"ids": {"values": [asset_id]}}
        ]
        body["_source"] = {"excludes": ["vector"]}
        res = self.client.search(index=self.index, body=body)
        return [
            SearchHit.of(_doc(h["_source"]), float(h["_score"]), ["embedding"])
            for h in res["hits"]["hits"][:limit]
        ]

    def _mget(self, ids: list[str]) -> dict[str, IndexDoc]:
        if not ids:
            return {}
        res = self.client.mget(
            index=self.index, body={"ids": ids}, params={"_source_excludes": "vector"}
        )
        return {d["_id"]: _doc(d["_source"]) for d in res["docs"] if d.get("found")}


def filter_clauses(filters: Filters | None) -> list[dict[str, Any]]:
    if filters is None:
        return []
    out: list[dict[str, Any]] = []
    if filters.kind:
        out.append({"term": {"kind": filters.kind}})
    if filters.mime:
        out.append({"term": {"mime": filters.mime}})
    if filters.label:
        out.append({"term": {"label_terms": filters.label.lower().strip()}})
    if filters.has_faces is not None:
        out.append({"term": {"has_faces": filters.has_faces}})
    if filters.camera:
        # Literal substring: wildcard metacharacters in the user's text are escaped.
        escaped = (
            filters.camera.lower().replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")
        )
        out.append({"wildcard": {"camera.raw": {"value": f"*{escaped}*"}}})
    if filters.date_from or filters.date_to:
        rng: dict[str, str] = {}
        if filters.date_from:
            rng["gte"] = filters.date_from
        if filters.date_to:
            # A bare date covers its whole day (date math rounding, as the embedded index).
            rng["lte"] = filters.date_to + ("||/d" if len(filters.date_to) == 10 else "")
        out.append({"range": {"date": rng}})
    if filters.min_duration is not None or filters.max_duration is not None:
        span: dict[str, float] = {}  # a still has no duration: out of any range
        if filters.min_duration is not None:
            span["gte"] = filters.min_duration
        if filters.max_duration is not None:
            span["lte"] = filters.max_duration
        out.append({"range": {"duration": span}})
    if filters.codec:
        out.append({"term": {"codecs": filters.codec.lower().strip()}})
    return out


def keyword_query(terms: list[str], flt: list[dict[str, Any]]) -> dict[str, Any]:
    """multi_match (never query_string): the user's characters are text, not syntax."""
    return {
        "size": KEYWORD_CANDIDATES,
        "_source": False,
        "query": {
            "bool": {
                "must": {"multi_match": {"query": " ".join(terms), "fields": TEXT_FIELDS}},
                "filter": flt,
            }
        },
    }


def knn_query(
    vector: np.ndarray, model: str, flt: list[dict[str, Any]], k: int = VECTOR_CANDIDATES
) -> dict[str, Any]:
    return {
        "size": k,
        "_source": False,
        "query": {
            "knn": {
                "vector": {
                    "vector": [round(float(x), 7) for x in normalise(vector)],
                    "k": k,
                    # Lucene engine: efficient filtering inside the HNSW search.
                    "filter": {"bool": {"filter": [{"term": {"embedding_model": model}}, *flt]}},
                }
            }
        },
    }


def _source(doc: IndexDoc, dim: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": doc.id,
        "kind": doc.kind,
        "mime": doc.mime,
        "filename": doc.filename,
        "labels": doc.labels,
        "label_terms": label_terms(doc.labels),
        "description": doc.description,
        "ocr_text": doc.ocr_text,
        "alt_text": doc.alt_text,
        "metadata_text": doc.metadata_text,
        "has_faces": doc.has_faces,
        "face_count": doc.face_count,
        "camera": doc.camera,
        "date": doc.date,
        "created_at": doc.created_at,
        "duration": doc.duration,
        "codecs": doc.codecs,
        "embedding_model": None,
    }
    # A vector of another size than the mapping (another provider's) is left out, not refused.
    if doc.vector is not None and doc.embedding_model and doc.vector.shape[0] == dim:
        body["embedding_model"] = doc.embedding_model
        body["vector"] = [round(float(x), 7) for x in normalise(doc.vector)]
    return body


def _doc(src: dict[str, Any]) -> IndexDoc:
    vector = src.get("vector")
    return IndexDoc(
        id=src["id"],
        kind=src.get("kind"),
        mime=src.get("mime"),
        filename=src.get("filename") or "",
        labels=list(src.get("labels") or []),
        description=src.get("description") or "",
        ocr_text=src.get("ocr_text") or "",
        alt_text=src.get("alt_text") or "",
        metadata_text=src.get("metadata_text") or "",
        has_faces=bool(src.get("has_faces")),
        face_count=int(src.get("face_count") or 0),
        camera=src.get("camera"),
        date=src.get("date"),
        created_at=src.get("created_at"),
        duration=src.get("duration"),
        codecs=list(src.get("codecs") or []),
        embedding_model=src.get("embedding_model"),
        vector=None if vector is None else np.asarray(vector, dtype=np.float32),
    )


def aws_auth(url: str, mode: str = "auto", region: str | None = None) -> Any:
    """A SigV4 signer for Amazon OpenSearch Service (`es`) or Serverless (`aoss`), or None.

    Credentials come from boto3's chain (the task or Lambda role in AWS) and refresh as
    they rotate; the region is the one in the domain's host name, else `region`.
    """
    host = urlparse(url).hostname or ""
    if mode == "none" or (mode == "auto" and not host.endswith(".amazonaws.com")):
        return None
    import boto3
    from opensearchpy import Urllib3AWSV4SignerAuth

    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise ValueError(f"OpenSearch at {host} needs SigV4 signing but no AWS credentials")
    parts = host.split(".")
    in_host = parts[-4] if host.endswith(".amazonaws.com") and len(parts) >= 5 else None
    region = in_host or region or session.region_name
    if not region:
        raise ValueError(f"no AWS region for OpenSearch at {host}: set PICSHA_AWS_REGION")
    service = "aoss" if host.endswith(".aoss.amazonaws.com") else "es"
    return Urllib3AWSV4SignerAuth(credentials, region, service)
