"""`/docs` renders in a browser with every request answered by the app itself."""

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.slow


def test_swagger_ui_renders_offline(page: Page, served, artefacts):
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(served.base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{served.base}/docs")
    expect(page.locator(".opblock-summary-path", has_text="/render/{asset_id}")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/v1/assets").first).to_be_visible()
    page.screenshot(path=artefacts / "docs.png")
    assert outside == []
