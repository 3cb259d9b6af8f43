"""The web console in a real browser against a real `picsha serve` on 127.0.0.1."""

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
import pyvips
from playwright.sync_api import Page, expect

from delivery.params import RenderParams
from shared import imaging, newest
from shared.ids import new_id
from shared.manifest import Manifest, Source, save_manifest
from shared.storage.local import LocalStore
from tests.helpers import HALF_LOGO_SVG, corpus_file, load, make_jpeg
from tests.helpers_ai import skimage_jpeg
from tests.picsha.conftest import NO_ANALYSIS, start_server, stop_server

pytestmark = pytest.mark.slow

HOSTILE_NAME = "<img src=x onerror=alert(1)>.jpg"
HOSTILE_EXIF = "<script>alert(2)</script>"


def sign_in(page: Page, served) -> None:
    page.goto(f"{served.base}/console")
    page.fill("input[name=api_key]", served.key)
    page.click("#signin button[type=submit]")
    expect(page.locator("#library")).to_be_visible()


def upload(page: Page, paths: list[Path], state: str | re.Pattern = "ready") -> None:
    page.set_input_files("#files", [str(p) for p in paths])
    for path in paths:
        row = page.locator("#uploads li", has_text=path.name)
        expect(row.locator(".state")).to_have_text(state, timeout=60_000)


def test_upload_grid_asset_page_and_playground(page: Page, served, artefacts, tmp_path):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, served)
    assert served.key not in page.url
    assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly

    gps_photo = "nikon_coolpix_p6000_gps_DSCN0010.jpg"
    photos = [corpus_file("jpeg/canon_eos40d.jpg"), corpus_file(f"jpeg/{gps_photo}")]
    upload(page, photos)
    for photo in photos:
        tile = page.locator("#grid li", has_text=photo.name).first
        expect(tile).to_be_visible()
        expect(tile.locator("img")).to_have_js_property("complete", True)
    page.wait_for_function(
        "[...document.querySelectorAll('#grid img')].every(i => i.naturalWidth > 0)"
    )
    page.screenshot(path=artefacts / "grid.png", full_page=True)

    page.locator("#grid li", has_text=gps_photo).first.locator("a").click()
    expect(page.locator("#asset-title")).to_have_text(gps_photo)
    expect(page.locator("#details")).to_contain_text("COOLPIX P6000")
    expect(page.locator("#details")).to_contain_text("640 \u00d7 480")
    map_link = page.locator("#details a", has_text="(map)")
    expect(map_link).to_have_attribute("href", re.compile(r"openstreetmap\.org/\?mlat=4\d\.\d+"))
    expect(page.locator("#derivatives")).to_contain_text("thumb")

    page.fill("#render-form input[name=wd]", "73")
    page.select_option("#render-form select[name=fm]", "webp")
    expect(page.locator("#render-url")).to_have_value(
        f"{served.base}/render/{page.url.rsplit('/', 1)[-1]}?wd=73&fm=webp"
    )
    page.wait_for_function(
        "document.getElementById('render-preview').complete"
        " && document.getElementById('render-preview').naturalWidth === 73"
    )
    page.screenshot(path=artefacts / "asset.png", full_page=True)

    page.click("#copy")
    expect(page.locator("#copied")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#render-url").input_value()
    r = httpx.get(copied)
    assert r.status_code == 200 and imaging.sniff_format(r.content) == "webp"
    assert load(r.content).width == 73


def test_a_failed_asset_shows_nothing_of_the_asset_opened_before(page: Page, served, tmp_path):
    sign_in(page, served)
    photo = make_jpeg(tmp_path / "opened-first.jpg", 160, 120)
    junk = tmp_path / "broken-upload.jpg"  # a "JPEG" that is not one: the asset fails
    junk.write_bytes(os.urandom(4096))
    upload(page, [photo])
    upload(page, [junk], state=re.compile("^failed"))

    page.locator("#grid li", has_text=photo.name).first.locator("a").click()
    expect(page.locator("#preview")).to_have_attribute("alt", photo.name)
    page.wait_for_function("document.getElementById('render-preview').naturalWidth > 0")
    page.click("text=← All assets")
    page.locator("#grid li", has_text=junk.name).first.locator("a").click()

    expect(page.locator("#asset-title")).to_have_text(junk.name)
    expect(page.locator("#asset-status")).to_contain_text("unsupported_type")
    # Nothing of the previous asset: no preview, no playground rendering it.
    expect(page.locator("#preview")).to_be_hidden()
    assert page.locator("#preview").get_attribute("alt") != photo.name
    assert page.locator("#preview").get_attribute("src") is None
    expect(page.locator(".playground")).to_be_hidden()
    assert page.locator("#render-preview").get_attribute("src") is None
    assert page.locator("#render-url").input_value() == ""

    page.go_back()  # the grid, then the ready asset again: its preview and playground return
    page.go_back()
    expect(page.locator("#asset-title")).to_have_text(photo.name)
    expect(page.locator(".playground")).to_be_visible()
    page.wait_for_function("document.getElementById('render-preview').naturalWidth > 0")


def test_search_says_no_results_and_still_finds_a_real_word(page: Page, served, tmp_path):
    sign_in(page, served)
    upload(page, [make_jpeg(tmp_path / "harbour-lighthouse.jpg", 120, 80)])
    expect(page.locator("#grid li", has_text="harbour-lighthouse.jpg")).to_have_count(1)

    page.fill("#search", "zxqv nonsense")
    expect(page.locator("#sentinel")).to_have_text("No results for “zxqv nonsense”.")
    expect(page.locator("#grid li")).to_have_count(0)

    # A slow answer to an earlier query neither blocks the next one nor lands in its grid.
    held = []
    page.route(re.compile(r".*/v1/search\?.*q=slow"), lambda route: held.append(route))
    page.fill("#search", "slow query")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    page.fill("#search", "lighthouse")
    expect(page.locator("#grid li", has_text="harbour-lighthouse.jpg")).to_have_count(1)
    expect(page.locator("#sentinel")).to_have_text("")
    with page.expect_response(re.compile(r".*q=slow")):
        held[0].continue_()
    page.wait_for_timeout(300)  # let the late answer be handled (it must be dropped)
    expect(page.locator("#grid li")).to_have_count(1)
    expect(page.locator("#sentinel")).to_have_text("")


def test_delete_and_reprocess(page: Page, served, tmp_path):
    sign_in(page, served)
    photo = make_jpeg(tmp_path / "to-delete.jpg", 120, 80)
    upload(page, [photo])
    page.locator("#grid li", has_text="to-delete.jpg").first.locator("a").click()
    asset_id = page.url.rsplit("/", 1)[-1]
    client = served.client()
    assert client.get(f"/v1/assets/{asset_id}").json()["attempts"] == 1
    page.click("#reprocess")
    for _ in range(300):  # the worker runs it again
        manifest = client.get(f"/v1/assets/{asset_id}").json()
        if manifest["attempts"] == 2 and manifest["status"] == "ready":
            break
        page.wait_for_timeout(100)
    assert manifest["attempts"] == 2 and manifest["status"] == "ready"
    expect(page.locator("#asset-status")).to_have_text("ready", timeout=60_000)
    page.click("#delete")
    page.click("#delete")  # second click confirms
    expect(page.locator("#library")).to_be_visible()
    expect(page.locator(f'#grid a[data-id="{asset_id}"]')).to_have_count(0)
    assert client.get(f"/v1/assets/{asset_id}").status_code == 404


def test_hostile_filename_and_exif_do_not_run(page: Page, served, artefacts, tmp_path):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, served)
    hostile = make_jpeg(tmp_path / HOSTILE_NAME, 64, 48)
    subprocess.run(
        [
            "exiftool",
            "-overwrite_original",
            f"-ImageDescription={HOSTILE_EXIF}",
            "-Artist=<img src=x onerror=alert(3)>",
            f"-Make={HOSTILE_EXIF}",
            str(hostile),
        ],
        check=True,
        capture_output=True,
    )
    upload(page, [hostile])
    tile = page.locator("#grid li", has_text=HOSTILE_NAME).first
    expect(tile).to_be_visible()
    tile.locator("a").click()
    expect(page.locator("#asset-title")).to_have_text(HOSTILE_NAME)  # shown as text
    page.locator("#details summary").click()
    expect(page.locator("#details")).to_contain_text(HOSTILE_EXIF)
    page.screenshot(path=artefacts / "hostile.png", full_page=True)
    # Nothing injected: no element from the payloads exists, no dialog opened.
    assert page.locator("main img[src='x'], main script").count() == 0
    page.wait_for_timeout(500)  # let any injected handler fire (it must not)
    assert dialogs == []


def test_a_transparent_logo_tile_shows_a_checkerboard_not_its_placeholder(
    page: Page, served, artefacts, tmp_path
):
    logo = tmp_path / "half-logo.svg"
    logo.write_bytes(HALF_LOGO_SVG)
    sign_in(page, served)
    upload(page, [logo])
    tile = page.locator("#grid li", has_text=logo.name).first.locator(".tile")
    expect(tile.locator("img")).to_have_class(re.compile("loaded"))
    expect(tile.locator("canvas")).to_be_hidden()
    page.wait_for_timeout(400)  # the image's fade-in
    shot = load(tile.screenshot(path=artefacts / "logo-tile.png"))
    w, h = shot.width, shot.height
    # cover-cropped 2:1 logo: its red half fills the tile's left, its clear half the right.
    red = shot.getpoint(w // 4, h // 2)
    assert red[0] > 200 and red[1] < 60 and red[2] < 60
    clear = shot.crop(w * 5 // 8, h // 4, w // 4, h // 2)[0]
    assert clear.min() > 200  # white and light grey squares, no red blur from the placeholder
    # Half of it the checkerboard's grey (#e4e7ec): the placeholder's blur (the logo
    # flattened on white) would be a smooth near-white instead.
    checker_grey = ((clear >= 224) & (clear <= 232)).avg() / 255
    assert 0.3 < checker_grey < 0.7


@pytest.fixture(scope="module")
def served_signed(tmp_path_factory):
    env = {**NO_ANALYSIS, "PICSHA_SIGNING_KEY": "console-k"}
    server = start_server(tmp_path_factory.mktemp("signed"), env)
    try:
        yield server
    finally:
        stop_server(server.proc)


def test_playground_urls_are_signed_when_signing_is_on(page: Page, served_signed, tmp_path):
    sign_in(page, served_signed)
    photo = make_jpeg(tmp_path / "signed.jpg", 200, 100)
    page.uncheck("#pre-render")  # no thumb.webp: the grid falls back to a (signed) render
    upload(page, [photo])
    tile = page.locator("#grid li", has_text="signed.jpg").first
    page.wait_for_function(
        "el => el.querySelector('img') && el.querySelector('img').naturalWidth > 0",
        arg=tile.element_handle(),
    )
    tile.locator("a").click()
    page.fill("#render-form input[name=wd]", "50")
    expect(page.locator("#render-url")).to_have_value(re.compile(r"[?&]wd=50&sig=[\w-]+$"))
    page.wait_for_function("document.getElementById('render-preview').naturalWidth === 50")
    url = page.locator("#render-url").input_value()
    assert httpx.get(url).status_code == 200
    assert httpx.get(url.split("&sig=")[0]).status_code == 403  # unsigned is refused


def test_grid_pages_in_with_infinite_scroll(page: Page, served):
    # More than a grid page (48) of records, written straight to the store: the grid reads
    # only manifests, and the worker need not process 49 uploads for this.
    store = LocalStore(served.data / "objects")
    for i in range(49):
        manifest = Manifest(
            id=new_id(),
            status="ready",
            kind="image",
            source=Source(filename=f"many-{i}.jpg", size=1, sha256="0" * 64),
        )
        save_manifest(store, manifest)
        newest.remember(store, manifest)
    client = served.client()
    total, params = 0, {"limit": "200", "order": "newest"}
    while True:  # what the cursor API holds, whatever earlier tests left
        listing = client.get("/v1/assets", params=params).json()
        total += len(listing["items"])
        if not listing["next_cursor"]:
            break
        params["cursor"] = listing["next_cursor"]
    sign_in(page, served)
    grid = page.locator("#grid li")
    expect(grid.first).to_be_visible()
    for _ in range(50):  # scroll the sentinel into view until every page is in
        if grid.count() >= total:
            break
        page.locator("#sentinel").scroll_into_view_if_needed()
        page.wait_for_timeout(200)
    expect(grid).to_have_count(total)
    assert page.locator("#sentinel").inner_text() == ""  # no more pages


def test_grid_shows_newest_first_and_keeps_it_on_reload(page: Page, served, tmp_path):
    client = served.client()
    names = [f"order-{letter}.jpg" for letter in "ABC"]
    for name in names:  # through the API, so the console's own prepending plays no part
        data = make_jpeg(tmp_path / name, 40, 30).read_bytes()
        assert client.post("/v1/assets", files={"file": (name, data)}).status_code == 202
    sign_in(page, served)
    captions = page.locator("#grid .caption")
    expect(captions.nth(2)).to_be_visible()
    assert captions.all_inner_texts()[:3] == names[::-1]
    page.reload()
    expect(page.locator("#library")).to_be_visible()
    expect(captions.nth(2)).to_be_visible()
    assert captions.all_inner_texts()[:3] == names[::-1]


def test_an_exact_re_upload_links_to_the_first_asset(page: Page, served, tmp_path):
    client = served.client()
    data = make_jpeg(tmp_path / "first.jpg", 40, 30).read_bytes()
    first = client.post("/v1/assets", files={"file": ("dup-first.jpg", data)}).json()
    again = client.post("/v1/assets", files={"file": ("dup-again.jpg", data)}).json()
    assert again["duplicate_of"] == first["id"]
    sign_in(page, served)
    page.goto(f"{served.base}/console#/asset/{again['id']}")
    expect(page.locator("#asset-title")).to_have_text("dup-again.jpg")
    notice = page.locator("#duplicate-of")
    expect(notice).to_have_text("The same file as an earlier upload: dup-first.jpg")
    notice.locator("a").click()
    expect(page.locator("#asset-title")).to_have_text("dup-first.jpg")
    expect(notice).to_be_hidden()  # the first asset is no one's copy


def test_upload_area_works_from_the_keyboard(page: Page, served):
    # Whether Chromium then shows its file dialog is the browser's business (and Playwright's
    # file-chooser interception is unreliable with a system Chromium): assert our part,
    # that Enter on the drop zone opens the file input, and that Tab reaches the input.
    sign_in(page, served)
    page.evaluate(
        "window.opened = 0; document.getElementById('files')"
        ".addEventListener('click', e => { window.opened++; e.preventDefault(); })"
    )
    page.focus("#drop")
    page.keyboard.press("Enter")
    page.wait_for_function("window.opened === 1")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "files"


def _download(page: Page, name: str) -> tuple[str, bytes]:
    """Click the files table's download link for `name`: (file name saved, its bytes)."""
    with page.expect_download() as got:
        page.click(f'#derivatives a[aria-label="Download {name}"]')
    download = got.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_files_download_and_details_read_as_a_person_would(page: Page, served):
    sign_in(page, served)
    photo = corpus_file("jpeg/nikon_coolpix_p6000_gps_DSCN0010.jpg")
    document = corpus_file("docs/word_text.docx")
    heic = corpus_file("heif/iphone_xs_gps_p3.heic")
    upload(page, [photo, document, heic])

    page.locator("#grid li", has_text=photo.name).first.locator("a").click()
    expect(page.locator("#asset-title")).to_have_text(photo.name)
    size = photo.stat().st_size
    details = page.locator("#details")
    expect(details).to_contain_text(f"file size{size / 1000:.3g} kB ({size:,} bytes)")
    expect(details).to_contain_text("takenOct 22, 2008, 4:")  # EXIF 2008:10:22 16:xx
    # ExifTool's prose, not codes (ExposureProgram 2, Flash 16); the maker named once.
    expect(details).to_contain_text("cameraNIKON COOLPIX P6000")
    expect(details).to_contain_text("programProgram AE")
    expect(details).to_contain_text("flashOff, Did not fire")
    expect(details).to_contain_text("exposure1/75 s · f/5.9 · ISO 64 · 24.0 mm")
    assert "T16:" in details.locator("time").first.get_attribute("datetime")
    expect(details.locator("dt", has_text="uploaded")).to_have_count(1)
    assert _download(page, "original") == (photo.name, photo.read_bytes())

    page.click("text=← All assets")
    page.locator("#grid li", has_text=document.name).first.locator("a").click()
    expect(page.locator("#derivatives")).to_contain_text("document.pdf")
    name, data = _download(page, "document")
    assert name == "word_text-document.pdf" and data.startswith(b"%PDF-")

    page.click("text=← All assets")
    page.locator("#grid li", has_text=heic.name).first.locator("a").click()
    expect(page.locator("#derivatives")).to_contain_text("proxy.jpg")
    name, data = _download(page, "proxy")
    assert name == "iphone_xs_gps_p3-proxy.jpg" and imaging.sniff_format(data) == "jpeg"
    row = page.locator("#derivatives tr", has_text="proxy.jpg")
    proxy = load(data)
    expect(row).to_contain_text(f"{proxy.width} \u00d7 {proxy.height}")
    expect(row).to_contain_text(f"{len(data) / 1000:.3g} kB")


def test_playground_offers_every_render_parameter_and_describes_the_output(
    page: Page, served, artefacts, tmp_path
):
    sign_in(page, served)
    photo = make_jpeg(tmp_path / "playground.jpg", 640, 480)
    mark = make_jpeg(tmp_path / "the-mark.jpg", 100, 50)
    upload(page, [mark, photo])
    mark_id = page.locator("#grid a", has_text=mark.name).first.get_attribute("data-id")
    page.locator("#grid li", has_text=photo.name).first.locator("a").click()
    asset_id = page.url.rsplit("/", 1)[-1]

    form = page.locator("#render-form")
    for name in RenderParams.model_fields.keys() - {"sig"}:
        expect(form.locator(f"[name={name}]")).to_have_count(1)
    page.fill("#render-form [name=wd]", "200")
    page.select_option("#render-form [name=rot]", "90")
    page.select_option("#render-form [name=flip]", "h")
    page.fill("#render-form [name=blur]", "1.5")
    page.check("#render-form [name=gray]")
    page.fill("#render-form [name=wm]", mark_id)
    page.select_option("#render-form [name=wm_pos]", "nw")
    page.fill("#render-form [name=txt]", "Proof")
    page.fill("#render-form [name=txt_color]", "#ff0000")
    page.select_option("#render-form [name=fm]", "png")
    url = f"{served.base}/render/{asset_id}?wd=200&fm=png&blur=1.5&gray=true&rot=90&flip=h"
    url += f"&wm={mark_id}&wm_pos=nw&txt=Proof&txt_color=ff0000"
    expect(page.locator("#render-url")).to_have_value(url)
    rendered = httpx.get(url)
    assert rendered.status_code == 200 and imaging.sniff_format(rendered.content) == "png"
    image = load(rendered.content)
    assert (image.width, image.height) == (200, 267)  # turned to 480 x 640, then 200 wide
    size = len(rendered.content)
    info = f"200 \u00d7 267 px \u00b7 {size / 1000:.3g} kB \u00b7 png"
    expect(page.locator("#render-info")).to_have_text(info)
    page.screenshot(path=artefacts / "playground.png", full_page=True)

    page.fill("#render-form [name=txt_size]", "1")  # below the minimum: the server says why
    expect(page.locator("#render-error")).to_contain_text("invalid_parameter: txt_size")
    expect(page.locator("#render-info")).to_have_text("")

    page.click("#render-form button[type=reset]")  # back to the defaults: wd=600 alone
    expect(page.locator("#render-url")).to_have_value(f"{served.base}/render/{asset_id}?wd=600")
    expect(page.locator("#render-info")).to_have_text(re.compile(r"^600 \u00d7 450 px \u00b7 "))


def test_playground_edit_controls_cut_out_and_explain_what_the_server_cannot(
    page: Page, served, tmp_path
):
    sign_in(page, served)
    photo = make_jpeg(tmp_path / "edit.jpg", 320, 240)
    upload(page, [photo])
    page.locator("#grid li", has_text=photo.name).first.locator("a").click()
    asset_id = page.url.rsplit("/", 1)[-1]
    page.select_option("#render-form [name=edit]", "bg_remove")
    url = f"{served.base}/render/{asset_id}?edit=bg_remove&wd=600"  # in the server's order
    expect(page.locator("#render-url")).to_have_value(url)
    expect(page.locator("#render-info")).to_have_text(re.compile(r"\u00b7 png$"))
    assert load(httpx.get(url, follow_redirects=True).content).hasalpha()  # stored by then

    page.select_option("#render-form [name=edit]", "replace_bg")  # no prompt yet: 400
    expect(page.locator("#render-error")).to_contain_text("invalid_parameter: prompt")
    page.fill("#render-form [name=prompt]", "a sunny beach")
    expect(page.locator("#render-url")).to_have_value(re.compile(r"edit=replace_bg&wd=600$"))
    page.press("#render-form [name=prompt]", "Enter")  # committed: now it renders
    expect(page.locator("#render-url")).to_have_value(re.compile(r"&prompt=a\+sunny\+beach&"))
    expect(page.locator("#render-error")).to_contain_text("edit_not_supported")
    expect(page.locator("#render-error")).to_contain_text("bedrock")


@pytest.fixture(scope="module")
def served_analysing(tmp_path_factory):
    """A server that analyses what it ingests (local models): similar images, people."""
    pytest.importorskip("torch", reason='the `ai` extra is not installed (pip install ".[ai]")')
    server = start_server(tmp_path_factory.mktemp("analysing"))
    try:
        yield server
    finally:
        stop_server(server.proc)


def test_near_duplicates_similar_images_and_people(
    page: Page, served_analysing, artefacts, tmp_path
):
    served = served_analysing
    astronaut = skimage_jpeg("astronaut")
    crop = pyvips.Image.new_from_buffer(astronaut, "").crop(50, 0, 400, 400).flip("horizontal")
    chelsea = skimage_jpeg("chelsea")
    half_chelsea = pyvips.Image.new_from_buffer(chelsea, "").resize(0.5)
    files = {
        "astronaut.jpg": astronaut,
        "IMG_2041.jpg": crop.resize(1.7).jpegsave_buffer(Q=80),  # the same woman, another shot
        "chelsea.jpg": chelsea,
        "chelsea-small.jpg": half_chelsea.jpegsave_buffer(),  # a near-duplicate
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    sign_in(page, served)
    upload(page, paths)
    client = served.client()
    ids = {}
    for tile in page.locator("#grid a").all():
        ids[tile.inner_text().strip()] = tile.get_attribute("data-id")
    for name in files:  # analysis runs after ingest, in the worker
        for _ in range(1200):  # the bound only stops a broken run
            analysis = client.get(f"/v1/assets/{ids[name]}").json().get("analysis") or {}
            if analysis.get("status") in ("done", "failed", "skipped"):
                break
            page.wait_for_timeout(100)
        assert analysis.get("status") == "done", (name, analysis)

    page.locator("#grid li", has_text="chelsea.jpg").first.locator("a").click()
    expect(page.locator("#asset-title")).to_have_text("chelsea.jpg")
    duplicates = page.locator("#duplicates li")
    expect(duplicates).to_have_count(1)
    expect(duplicates).to_contain_text("chelsea-small.jpg")
    expect(page.locator("#similar li")).to_have_count(3)  # every other asset, nearest first
    expect(page.locator("#similar li").first).to_contain_text("chelsea-small.jpg")
    duplicates.locator("a").click()
    expect(page.locator("#asset-title")).to_have_text("chelsea-small.jpg")
    expect(page.locator("#duplicates li")).to_contain_text("chelsea.jpg")

    page.click("#views >> text=People")
    people = page.locator("#people-grid li")
    expect(people).to_have_count(1)
    expect(people).to_contain_text("2 photos")
    face = people.locator(".face img")
    expect(face).to_have_class(re.compile("loaded"))
    page.screenshot(path=artefacts / "people.png")
    people.locator("a").click()
    expect(page.locator("#people-status")).to_have_text("In 2 photos.")
    grid = page.locator("#people-grid li")
    expect(grid).to_have_count(2)
    assert {li.inner_text().strip() for li in grid.all()} == {"astronaut.jpg", "IMG_2041.jpg"}
