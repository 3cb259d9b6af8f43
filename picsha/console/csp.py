"""The console page's Content-Security-Policy: this origin, plus the bucket in S3 mode.

In S3 mode the browser talks to the bucket itself: presigned uploads (`connect-src`), and
media or oversized renders that the server answers with a redirect to a presigned URL
(`media-src`, `img-src`; CSP checks every hop of a redirect). The bucket's origin is the one
the store's own presigned forms and URLs name, so it follows the endpoint and addressing
style boto3 picks from the settings.
"""

from urllib.parse import urlsplit

from shared.storage import ObjectStore


def storage_origins(store: ObjectStore) -> list[str]:
    """Origins of the store's presigned upload form and download URL ([] in local mode)."""
    probe = "assets/csp-probe/original"  # signed locally: no request is made
    form = store.presigned_post(probe, 1)
    urls = [form["url"]] if form else []
    url = store.presigned_url(probe)
    if url and "://" in url:
        urls.append(url)
    origins: list[str] = []
    for found in urls:
        parts = urlsplit(found)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    return origins


def console_csp(store: ObjectStore) -> str:
    """Nothing but this origin (and the bucket's): a second wall behind escaping."""
    extra = "".join(f" {o}" for o in storage_origins(store))
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob:{extra}; media-src 'self' blob:{extra}; "
        f"connect-src 'self'{extra}; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
