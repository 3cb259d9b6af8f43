// Picsha console: plain ES module, no build step, nothing loaded from elsewhere.
// Every user-controlled string reaches the page through textContent or an attribute set
// by the DOM API, never parsed as HTML; the server's CSP forbids inline script besides.
import { decodeBlurhash } from "./blurhash.js";

const API = "/console/api";
const $ = (id) => document.getElementById(id);
const ID_RE = /^[A-Za-z0-9_-]{21}$/;
const HEX_RE = /^#[0-9a-fA-F]{6}$/;
const PAGE = 48;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child); // strings become text nodes
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(API + path, {
    ...options,
    headers: { "x-picsha-console": "1", ...(options.headers || {}) },
    credentials: "same-origin",
  });
  if (response.status === 401) { showSignIn(); throw new Error("signed out"); }
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const err = body && body.error ? body.error : { code: `http_${response.status}`, message: "" };
    throw Object.assign(new Error(`${err.code}: ${err.message}`), { code: err.code });
  }
  return body;
}

// ---------------------------------------------------------------- formatting
// SI units, as browsers and file managers show sizes: 2.35 MB, 45.2 kB, 812 bytes.
const UNITS = ["bytes", "kB", "MB", "GB", "TB"];
function humanBytes(n) {
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) return "";
  let value = n, unit = 0;
  while (Number(value.toPrecision(3)) >= 1000 && unit < UNITS.length - 1) { value /= 1000; unit++; }
  if (unit === 0) return n === 1 ? "1 byte" : `${n} bytes`;
  return `${Number(value.toPrecision(3))} ${UNITS[unit]}`;
}

// A running time as players show it: 0:02, 4:05, 1:02:03.
// "transcode 45 %" while a long video is transcoded (manifest.progress), else "".
function progressText(item) {
  const p = item.progress;
  if (item.status !== "processing" || !p || typeof p.fraction !== "number") return "";
  return `${p.stage} ${Math.round(p.fraction * 100)} %`;
}

function statusText(item) {
  const status = item.status || "ready";
  const progress = progressText(item);
  return progress ? `${status} · ${progress}` : status;
}

function humanDuration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

const MEDIA_KINDS = ["video", "audio"];
// The web proxies delivery serves at /media/{id}/{name} (Range-capable), by derivative.
const MEDIA_FILES = { proxy_video: "proxy.mp4", preview: "preview.mp4", proxy_audio: "proxy.m4a" };
function mediaPath(m, derivative) {
  const derivatives = m.derivatives || {};
  return derivatives[derivative] ? `/media/${m.id}/${MEDIA_FILES[derivative]}` : null;
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
// A <time> in the reader's locale; the exact ISO value in its title and datetime.
function humanDate(iso) {
  if (typeof iso !== "string" || !iso) return "";
  const moment = new Date(iso); // no offset (EXIF): the wall-clock time as the camera wrote it
  if (Number.isNaN(moment.getTime())) return iso;
  return el("time", { datetime: iso, title: iso, text: DATE_TIME.format(moment) });
}

// ---------------------------------------------------------------- views and routing
const state = { items: [], cursor: undefined, loading: false, done: false, query: "",
                searchApi: null, signing: false, seen: new Set(), listing: 0 };
const VIEWS = ["signin", "library", "asset", "people"];
let navigation = 0; // which navigation is current: a late answer for an earlier one is dropped

function show(view) {
  for (const id of VIEWS) $(id).hidden = id !== view;
  const signedIn = view !== "signin";
  $("logout").hidden = !signedIn;
  $("views").hidden = !signedIn;
  document.querySelector(".search").hidden = view !== "library";
}

function showSignIn() {
  show("signin");
  $("signin-error").hidden = location.hash !== "#signin-failed";
  document.querySelector("#signin input").focus();
}

async function route() {
  const asset = location.hash.match(/^#\/asset\/([A-Za-z0-9_-]{21})$/);
  if (asset) return openAsset(asset[1]);
  const people = location.hash.match(/^#\/people(?:\/([A-Za-z0-9_-]{1,64}))?$/);
  if (people) return people[1] ? openPerson(people[1]) : openPeople();
  navigation++;
  show("library");
  if (!state.items.length && !state.done) loadMore();
}

// ---------------------------------------------------------------- grid
function tile(item) {
  const id = item.id;
  const name = (item.source && item.source.filename) || item.filename || id;
  const box = el("div", { class: "tile" });
  const ph = item.placeholders || {};
  if (typeof ph.dominant_color === "string" && HEX_RE.test(ph.dominant_color)) {
    box.style.backgroundColor = ph.dominant_color; // CSSOM, not an inline style attribute
  }
  const pixels = typeof ph.blurhash === "string" ? decodeBlurhash(ph.blurhash, 32, 32) : null;
  if (pixels) {
    const canvas = el("canvas", { width: "32", height: "32", "aria-hidden": "true" });
    canvas.getContext("2d").putImageData(new ImageData(pixels, 32, 32), 0, 0);
    box.append(canvas);
  }
  const status = item.status || "ready";
  if (status === "ready") {
    const img = el("img", { alt: name, loading: "lazy", decoding: "async" });
    img.addEventListener("load", () => {
      // The placeholder made way: a transparent thumb (a logo) shows a checkerboard behind
      // it, not the blur of itself.
      img.classList.add("loaded");
      box.classList.add("loaded");
      box.style.backgroundColor = "";
    });
    img.addEventListener("error", () => img.remove());
    img.src = `/console/thumb/${encodeURIComponent(id)}`;
    box.append(img);
  } else {
    box.append(el("span", { class: status === "failed" ? "state-failed" : "muted", text: statusText(item) }));
  }
  if (status === "ready" && MEDIA_KINDS.includes(item.kind)) mediaTile(item, box);
  const link = el("a", { href: `#/asset/${id}`, "data-id": id }, box,
                  el("div", { class: "caption", text: name, title: name }));
  return el("li", {}, link);
}

// Videos and audio: the poster (the thumb above) with the running time on it; a video's
// silent preview plays over the poster while the pointer rests on the tile.
function mediaTile(item, box) {
  const duration = humanDuration((item.media || {}).duration);
  if (duration) box.append(el("span", { class: "badge", text: duration }));
  const preview = mediaPath(item, "preview");
  if (!preview) return;
  let clip = null;
  box.addEventListener("mouseenter", async () => {
    const url = await signed(preview);
    if (clip || !box.matches(":hover")) return;
    clip = el("video", { class: "hover-preview", src: url, "aria-hidden": "true" });
    Object.assign(clip, { muted: true, loop: true, playsInline: true, autoplay: true });
    box.append(clip);
    clip.play().catch(() => {}); // a preview that cannot play leaves the poster
  });
  box.addEventListener("mouseleave", () => {
    if (clip) { clip.pause(); clip.remove(); clip = null; }
  });
}

function addItems(items, { prepend = false } = {}) {
  const grid = $("grid");
  for (const item of items) {
    if (!item || !ID_RE.test(item.id)) continue;
    const node = tile(item);
    node.dataset.name = ((item.source && item.source.filename) || item.filename || "").toLowerCase();
    if (state.seen.has(item.id)) {
      // Shown already (a listing caught it queued): its tile and entry take the news in place.
      const old = grid.querySelector(`a[data-id="${item.id}"]`);
      if (old) old.parentElement.replaceWith(node);
      state.items = state.items.map((i) => (i.id === item.id ? item : i));
      continue;
    }
    state.seen.add(item.id);
    state.items.push(item);
    if (prepend) grid.prepend(node); else grid.append(node);
  }
  applyFilter();
}

function resetGrid() {
  $("grid").replaceChildren();
  // A page still on its way belongs to the previous query: `listing` tells it so.
  Object.assign(state, { items: [], cursor: undefined, done: false, seen: new Set(),
                         loading: false, listing: state.listing + 1 });
}

async function loadMore() {
  if (state.loading || state.done) return;
  const listing = state.listing;
  state.loading = true;
  $("sentinel").textContent = "Loading…";
  let page;
  try {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (state.cursor) params.set("cursor", state.cursor);
    if (state.query && state.searchApi) {
      params.set("q", state.query);
      page = await api(`/v1/search?${params}`);
    } else {
      params.set("order", "newest"); // as uploads join it: the grid reads the same on reload
      page = await api(`/v1/assets?${params}`);
    }
  } catch (err) {
    if (listing !== state.listing) return;
    $("sentinel").textContent = `Could not load assets (${err.message})`;
    state.loading = false;
    return;
  }
  if (listing !== state.listing) return;
  addItems(page.items || []);
  state.cursor = page.next_cursor || undefined;
  state.done = !page.next_cursor;
  state.loading = false;
  $("sentinel").textContent = state.done ? (state.items.length ? "" : emptyText()) : "…";
  // A tall screen may show the sentinel again at once: keep filling it.
  if (!state.done && isVisible($("sentinel"))) loadMore();
}

function isVisible(node) {
  const r = node.getBoundingClientRect();
  return r.top < window.innerHeight && r.bottom >= 0;
}

function emptyText() {
  return state.query ? `No results for “${state.query}”.` : "No assets yet.";
}

// Filename filter on what is loaded, until the server can search (`/v1/search`).
function applyFilter() {
  if (state.searchApi) return;
  const q = state.query.toLowerCase();
  let shown = 0;
  for (const li of $("grid").children) {
    li.hidden = q !== "" && !li.dataset.name.includes(q);
    shown += li.hidden ? 0 : 1;
  }
  if (state.done) $("sentinel").textContent = shown ? "" : emptyText();
}

async function detectSearch() {
  try {
    await api("/v1/search?q=&limit=1");
    state.searchApi = true;
  } catch {
    state.searchApi = false;
  }
  $("search-mode").textContent = state.searchApi ? "" : "Search filters file names.";
}

let searchTimer;
function onSearch(event) {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    state.query = event.target.value.trim();
    if (state.searchApi) { resetGrid(); loadMore(); } else applyFilter();
  }, 250);
}

// ---------------------------------------------------------------- uploads
// How the server takes uploads (/healthz "upload", as `picsha ingest` reads it): behind an
// API gateway (S3 mode) a request body is capped, so files above `max_body_bytes` go
// straight to the bucket through a presigned form and the bucket's event starts ingest.
let uploadWays = null;
function uploadCapabilities() {
  uploadWays ??= fetch("/healthz", { credentials: "same-origin" })
    .then((r) => r.json()).then((b) => (b && b.upload) || {}).catch(() => ({}));
  return uploadWays;
}

function goesPresigned(upload, file) {
  if (upload.presigned !== true) return false;
  const limit = upload.max_body_bytes;
  return !(Number.isInteger(limit) && limit >= 0) || file.size > limit; // no limit stated: all
}

async function uploadFiles(files) {
  files = [...files]; // the input is cleared while the capabilities are read
  const list = $("uploads");
  const preRender = $("pre-render").checked;
  const upload = await uploadCapabilities();
  for (const file of files) {
    const bar = el("progress", { max: "100", value: "0" });
    const status = el("span", { class: "state", text: "uploading" });
    const row = el("li", {}, el("span", { class: "name", text: file.name, title: file.name }), bar, status);
    list.prepend(row);
    const send = goesPresigned(upload, file) ? sendPresigned : sendToApi;
    send(file, preRender, bar).then((id) => {
      bar.value = 100;
      row.dataset.id = id;
      follow(id, status);
    }, (err) => setState(status, "failed", err.message));
  }
}

// XMLHttpRequest, not fetch(): fetch reports no upload progress.
function post(url, form, bar, headers = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => resolve(xhr));
    xhr.addEventListener("error", () => reject(new Error("network error")));
    xhr.send(form);
  });
}

async function sendToApi(file, preRender, bar) {
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("pre_render_sizes", preRender ? "true" : "false");
  const xhr = await post(`${API}/v1/assets`, form, bar, { "x-picsha-console": "1" });
  let body = null;
  try { body = JSON.parse(xhr.responseText); } catch { /* shown below */ }
  if (xhr.status === 401) showSignIn();
  if (xhr.status !== 202 || !body || !ID_RE.test(body.id)) {
    throw new Error(body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${xhr.status}`);
  }
  return body.id;
}

// POST /v1/assets/presigned names the asset and hands out a form for the bucket; the bytes
// go there directly (never through this server or the gateway), the file last.
async function sendPresigned(file, preRender, bar) {
  const created = await api("/v1/assets/presigned", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ filename: file.name, content_type: file.type || null, pre_render_sizes: preRender }),
  });
  const target = created && created.upload;
  if (!ID_RE.test(created.id) || !target || typeof target.url !== "string") throw new Error("no upload form");
  const form = new FormData();
  for (const [k, v] of Object.entries(target.fields || {})) form.append(k, v);
  form.append("file", file, file.name);
  let xhr;
  try {
    xhr = await post(target.url, form, bar);
  } catch (err) {
    forget(created.id);
    throw new Error(`cannot reach the bucket (${err.message})`);
  }
  if (xhr.status >= 300) {
    forget(created.id);
    const xml = new DOMParser().parseFromString(xhr.responseText || "<x/>", "application/xml");
    const field = (name) => (xml.getElementsByTagName(name)[0] || {}).textContent;
    throw new Error(`the bucket refused it: ${field("Code") || `HTTP ${xhr.status}`}${field("Message") ? `: ${field("Message")}` : ""}`);
  }
  return created.id;
}

// An asset whose bytes never reached the bucket would wait as "queued" for ever.
function forget(id) {
  api(`/v1/assets/${id}`, { method: "DELETE" }).catch(() => {});
}

function setState(node, value, message) {
  node.textContent = message ? `${value} — ${message}` : value;
  node.className = `state state-${value}`;
}

async function follow(id, statusNode) {
  let delay = 250;
  for (;;) {
    let manifest;
    try {
      manifest = await api(`/v1/assets/${id}`);
    } catch (err) {
      setState(statusNode, "failed", err.message);
      return;
    }
    const error = manifest.error ? `${manifest.error.code}: ${manifest.error.message}` : "";
    setState(statusNode, manifest.status, error || progressText(manifest));
    if (manifest.status === "ready" || manifest.status === "failed") {
      addItems([manifest], { prepend: true });
      return;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 1.5, 2000);
  }
}

function wireDrop() {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) uploadFiles(e.dataTransfer.files);
  });
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("files").click(); }
  });
  $("files").addEventListener("change", (e) => { uploadFiles(e.target.files); e.target.value = ""; });
}

// ---------------------------------------------------------------- asset page
let current = null;

// Nothing of the asset shown before survives a navigation: not its preview, not its
// playground, not its URL (a failed asset would otherwise show the previous one's).
function resetAsset(id) {
  current = null;
  clearTimeout(renderTimer);
  renderSeq++;
  $("asset-title").textContent = id;
  $("asset-status").textContent = "Loading…";
  $("asset-status").className = "status";
  $("duplicate-of").replaceChildren();
  $("duplicate-of").hidden = true;
  for (const list of ["details", "analysis", "duplicates", "similar"]) $(list).replaceChildren();
  for (const note of ["duplicates-status", "similar-status", "render-info"]) $(note).textContent = "";
  $("derivatives").tBodies[0].replaceChildren();
  for (const img of [$("preview"), $("render-preview")]) img.removeAttribute("src");
  for (const player of [$("player"), $("listen")]) { // stop what the last asset played
    player.pause();
    player.removeAttribute("src");
    player.removeAttribute("poster");
    player.hidden = true;
    player.load();
  }
  $("preview").hidden = false;
  $("preview").alt = "";
  $("preview").parentElement.hidden = true;
  $("render-url").value = "";
  $("render-error").hidden = true;
  document.querySelector(".playground").hidden = true;
  document.querySelector(".related").hidden = true;
}

async function openAsset(id) {
  const mine = ++navigation;
  show("asset");
  resetAsset(id);
  let manifest;
  try {
    manifest = await api(`/v1/assets/${id}`);
  } catch (err) {
    if (mine === navigation) $("asset-status").textContent = err.message;
    return;
  }
  if (mine !== navigation) return;
  current = manifest;
  const src = manifest.source || {};
  $("asset-title").textContent = src.filename || id;
  const err = manifest.error;
  $("asset-status").textContent = err ? `${manifest.status} — ${err.stage}/${err.code}: ${err.message}` : statusText(manifest);
  $("asset-status").className = `status state-${manifest.status}`;
  showDuplicateOf(manifest.duplicate_of, mine);
  fillDetails(manifest);
  fillAnalysis(manifest.analysis);
  fillFiles(manifest);
  if (manifest.status !== "ready") return; // nothing to preview or render (yet)
  document.querySelector(".playground").hidden = false;
  fillWatermarks(id);
  updateRender();
  fillRelated(manifest, mine);
  const preview = await signed(`/render/${id}?wd=1200&fm=webp`);
  const video = mediaPath(manifest, "proxy_video"), audio = mediaPath(manifest, "proxy_audio");
  const playable = await signed(manifest.kind === "video" ? video : manifest.kind === "audio" ? audio : null);
  if (mine !== navigation) return;
  $("preview").parentElement.hidden = false;
  if (manifest.kind === "video" && playable) {
    // The poster (a render of poster.jpg) until it plays; only its first bytes load.
    $("preview").hidden = true;
    Object.assign($("player"), { poster: preview, src: playable, hidden: false });
    $("player").setAttribute("aria-label", src.filename || "video");
    return;
  }
  $("preview").alt = src.filename || "preview";
  $("preview").src = preview; // audio: the cover art or waveform above its player
  if (manifest.kind === "audio" && playable) {
    Object.assign($("listen"), { src: playable, hidden: false });
    $("listen").setAttribute("aria-label", src.filename || "audio");
  }
}

// An exact re-upload (same sha256) names the first asset with those bytes.
async function showDuplicateOf(first, mine) {
  if (typeof first !== "string" || !ID_RE.test(first)) return;
  const link = el("a", { href: `#/asset/${first}`, text: first });
  const note = $("duplicate-of");
  note.replaceChildren("The same file as an earlier upload: ", link);
  note.hidden = false;
  const earlier = await api(`/v1/assets/${first}`).catch(() => null);
  if (mine !== navigation) return;
  if (earlier && earlier.source && earlier.source.filename) link.textContent = earlier.source.filename;
}

function row(list, name, value) {
  if (value === undefined || value === null || value === "") return;
  list.append(el("dt", { text: name }), typeof value === "string" ? el("dd", { text: value }) : el("dd", {}, value));
}

function fillDetails(m) {
  const list = $("details");
  const src = m.source || {}, image = m.image || {}, meta = m.metadata || {};
  row(list, "id", m.id);
  row(list, "type", `${src.mime || "?"} (${m.kind || "?"})`);
  if (typeof src.size === "number" && src.size > 0) {
    row(list, "file size", `${humanBytes(src.size)} (${src.size.toLocaleString("en-US")} bytes)`);
  }
  const media = m.media || {};
  if (media.width) row(list, "resolution", `${media.width} × ${media.height}`);
  else if (image.width) row(list, "dimensions", `${image.width} × ${image.height}`);
  row(list, "duration", humanDuration(media.duration));
  if (typeof media.fps === "number" && media.fps > 0) row(list, "frame rate", `${Number(media.fps.toFixed(3))} fps`);
  row(list, "video codec", typeof media.video_codec === "string" ? media.video_codec : "");
  row(list, "audio codec", typeof media.audio_codec === "string" ? media.audio_codec : "");
  const tags = media.tags || {};
  for (const tag of ["title", "artist", "album"]) row(list, tag, typeof tags[tag] === "string" ? tags[tag] : "");
  row(list, "ICC profile", image.icc || "");
  const cam = meta.camera || {};
  // name does not repeat the maker; manifests written before it have make + model only.
  row(list, "camera", cam.name || [cam.make, cam.model].filter((v) => typeof v === "string").join(" "));
  row(list, "lens", typeof meta.lens === "string" ? meta.lens : "");
  const exp = meta.exposure || {};
  const settings = [exp.exposure_time && `${exp.exposure_time} s`, exp.f_number && `f/${exp.f_number}`,
                    exp.iso && `ISO ${exp.iso}`, exp.focal_length].filter(Boolean).join(" · ");
  row(list, "exposure", settings);
  row(list, "program", typeof exp.program === "string" ? exp.program : "");
  row(list, "flash", typeof exp.flash === "string" ? exp.flash : "");
  row(list, "taken", humanDate(meta.taken_at));
  row(list, "uploaded", humanDate(m.created_at));
  row(list, "updated", humanDate(m.updated_at));
  const gps = meta.gps || {};
  const lat = Number(gps.lat ?? gps.latitude), lon = Number(gps.lon ?? gps.longitude);
  if (Number.isFinite(lat) && Number.isFinite(lon)) {
    const url = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`;
    row(list, "location", el("a", { href: url, target: "_blank", rel: "noopener noreferrer",
                                    text: `${lat.toFixed(5)}, ${lon.toFixed(5)} (map)` }));
  }
  for (const w of m.warnings || []) row(list, "warning", String(w));
  const exif = Object.entries(meta.exif || {});
  if (exif.length) {
    const all = el("dl", { class: "details" });
    for (const [k, v] of exif) row(all, k, typeof v === "string" ? v : JSON.stringify(v));
    row(list, "EXIF", el("details", {}, el("summary", { text: `${exif.length} tags` }), all));
  }
}

function fillAnalysis(a) {
  const list = $("analysis");
  if (!a) { row(list, "status", "none yet"); return; }
  row(list, "status", typeof a.status === "string" ? a.status : "");
  const labels = (a.labels || []).map((l) => (typeof l === "string" ? l : l.name || l.label)).filter(Boolean);
  row(list, "labels", labels.join(", "));
  row(list, "faces", Array.isArray(a.faces) ? String(a.faces.length) : "");
  for (const key of ["alt_text", "summary", "ocr_text"]) {
    row(list, key.replace("_", " "), typeof a[key] === "string" ? a[key] : "");
  }
}

// The original and every derivative the manifest lists, each with a download link
// (/console/download saves it under a name derived from the upload's).
function fillFiles(m) {
  const body = $("derivatives").tBodies[0];
  const src = m.source || {};
  const files = [];
  if (typeof src.size === "number" && src.size > 0) {
    files.push(["original", src.filename || "", m.image, src.size]);
  }
  for (const [name, d] of Object.entries(m.derivatives || {})) {
    files.push([name, String(d.key || "").split("/").pop(), d, d.bytes]);
  }
  for (const [name, file, dims, bytes] of files) {
    const pixels = dims && dims.width ? `${dims.width} × ${dims.height}` : "";
    const href = `/console/download/${encodeURIComponent(m.id)}/${encodeURIComponent(name)}`;
    const link = el("a", { href, download: "", "aria-label": `Download ${name}`, text: "Download" });
    const size = el("td", { text: humanBytes(bytes) });
    if (typeof bytes === "number") size.title = `${bytes.toLocaleString("en-US")} bytes`;
    body.append(el("tr", {}, el("td", { text: name }), el("td", { class: "file", text: file }),
                   el("td", { text: pixels }), size, el("td", {}, link)));
  }
  if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: "5", class: "muted", text: "none" })));
}

// Near-duplicates and similar images, from the index (both need the asset analysed).
async function fillRelated(m, mine) {
  document.querySelector(".related").hidden = false;
  const analysed = m.analysis && m.analysis.status === "done";
  const lists = [
    ["duplicates", `/v1/assets/${m.id}/duplicates`, "No near-duplicates."],
    ["similar", `/v1/assets/${m.id}/similar?limit=12`, "No similar images."],
  ];
  for (const [name, path, none] of lists) {
    const note = $(`${name}-status`);
    if (!analysed) { note.textContent = "Found once the asset is analysed."; continue; }
    note.textContent = "Loading…";
    let items;
    try {
      items = (await api(path)).items || [];
      // Duplicates carry ids only: their manifests give the tiles a name and placeholder.
      if (name === "duplicates") items = await Promise.all(items.map((d) => api(`/v1/assets/${d.id}`)));
    } catch (err) {
      if (mine === navigation) note.textContent = err.message;
      continue;
    }
    if (mine !== navigation) return;
    note.textContent = items.length ? "" : none;
    $(name).replaceChildren(...items.filter((i) => i && ID_RE.test(i.id)).map(tile));
  }
}

async function signed(path) {
  if (!path || !state.signing) return path;
  const body = await api(`/sign?${new URLSearchParams({ url: path })}`);
  return body.url;
}

// ---------------------------------------------------------------- people
async function openPeople() {
  const mine = ++navigation;
  show("people");
  resetPeople("People");
  let body;
  try {
    body = await api("/v1/people?limit=200");
  } catch (err) {
    if (mine === navigation) $("people-status").textContent = err.code === "capability_missing"
      ? `People are not available here (${err.message}).` : err.message;
    return;
  }
  if (mine !== navigation) return;
  const people = (body.items || []).filter((p) => typeof p.id === "string");
  $("people-status").textContent = people.length
    ? `${body.total} ${body.total === 1 ? "person" : "people"}, most photographed first.`
    : "No people yet: faces are grouped once photos are analysed.";
  $("people-grid").replaceChildren(...people.map(personTile));
}

function resetPeople(title) {
  $("people-title").textContent = title;
  $("people-status").textContent = "Loading…";
  $("people-grid").replaceChildren();
  $("people-back").hidden = title === "People";
}

function personTile(person) {
  const count = Number(person.asset_count) || 0;
  const caption = `${count} ${count === 1 ? "photo" : "photos"}`;
  const cover = person.cover || {};
  const face = faceCrop(String(cover.asset_id || ""), cover.box, `Person in ${caption}`);
  const link = el("a", { href: `#/people/${encodeURIComponent(person.id)}`, "data-person": person.id },
                  face, el("div", { class: "caption", text: caption }));
  return el("li", {}, link);
}

// The face's box (fractions of the image: x, y, w, h) centred and filling a square frame:
// a render of the whole photo, scaled and shifted by CSSOM once its size is known.
function faceCrop(assetId, box, alt) {
  const frame = el("div", { class: "tile face" });
  if (!ID_RE.test(assetId) || !Array.isArray(box) || box.length !== 4) return frame;
  const img = el("img", { alt, decoding: "async" });
  img.addEventListener("load", () => {
    const [x, y, w, h] = box.map(Number);
    const nw = img.naturalWidth, nh = img.naturalHeight, side = frame.clientWidth;
    const scale = side / (1.6 * Math.max(w * nw, h * nh, 1)); // a margin around the face
    img.style.width = `${nw * scale}px`;
    img.style.height = `${nh * scale}px`;
    img.style.left = `${side / 2 - (x + w / 2) * nw * scale}px`;
    img.style.top = `${side / 2 - (y + h / 2) * nh * scale}px`;
    img.classList.add("loaded");
  });
  signed(`/render/${assetId}?wd=800&fm=webp`).then((url) => { img.src = url; });
  frame.append(img);
  return frame;
}

async function openPerson(personId) {
  const mine = ++navigation;
  show("people");
  resetPeople("Person");
  let person;
  try {
    person = await api(`/v1/people/${encodeURIComponent(personId)}`);
  } catch (err) {
    if (mine === navigation) $("people-status").textContent = err.message;
    return;
  }
  const ids = (person.assets || []).map((a) => a.id).filter((id) => ID_RE.test(id)).slice(0, PAGE);
  const manifests = await Promise.all(ids.map((id) => api(`/v1/assets/${id}`).catch(() => null)));
  if (mine !== navigation) return;
  const count = Number(person.asset_count) || 0;
  $("people-status").textContent = `In ${count} ${count === 1 ? "photo" : "photos"}.`;
  $("people-grid").replaceChildren(...manifests.filter(Boolean).map(tile));
}

// ---------------------------------------------------------------- render playground
// The controls come from the server's own description of /render (OpenAPI): every parameter
// it takes, with its type, range, choices and default. Grouped here for people; a
// parameter this list does not know yet still appears, under "More".
const PARAM_GROUPS = [
  ["Size", ["wd", "ht", "dpr", "fit", "crop", "up", "g"]],
  ["Output", ["fm", "q", "bg"]],
  ["Adjust", ["blur", "sharpen", "gray", "rot", "flip"]],
  ["Watermark", ["wm", "wm_pos", "wm_scale", "wm_opacity"]],
  ["Text", ["txt", "txt_size", "txt_color", "txt_pos", "txt_font"]],
  ["Edit (AI)", ["edit", "prompt", "mask"]],
];
const PARAM_LABELS = {
  wd: "width", ht: "height", g: "gravity", up: "upscale", fm: "format", q: "quality",
  bg: "background", rot: "rotate", wm: "watermark asset", wm_pos: "position",
  wm_scale: "scale", wm_opacity: "opacity", txt: "text", txt_size: "size",
  txt_color: "colour", txt_pos: "position", txt_font: "font",
};
const UNSET = { fm: "source", flip: "none" }; // what an empty choice means
const INITIAL = { wd: "600" };
const IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
let renderParams = []; // [{name, schema, description}] in the server's order

async function buildPlayground() {
  const form = $("render-form");
  try {
    const response = await fetch("/openapi.json", { credentials: "same-origin" });
    const spec = await response.json();
    renderParams = spec.paths["/render/{asset_id}"].get.parameters
      .filter((p) => p.in === "query" && p.name !== "sig" && /^[a-z_]+$/.test(p.name));
  } catch (err) {
    form.append(el("p", { class: "error", text: `Render parameters unavailable (${err.message}).` }));
    return;
  }
  const known = new Set(PARAM_GROUPS.flatMap(([, names]) => names));
  const groups = [...PARAM_GROUPS, ["More", renderParams.map((p) => p.name).filter((n) => !known.has(n))]];
  for (const [title, names] of groups) {
    const params = names.map((n) => renderParams.find((p) => p.name === n)).filter(Boolean);
    if (params.length) form.append(el("fieldset", {}, el("legend", { text: title }), ...params.map(control)));
  }
  form.append(el("button", { type: "reset", text: "Reset" }));
}

function control(param) {
  const schema = param.schema || {};
  const label = PARAM_LABELS[param.name] || param.name.replaceAll("_", " ");
  let input;
  if (schema.type === "boolean") {
    input = el("input", { name: param.name, type: "checkbox" });
    if (schema.default === true) input.setAttribute("checked", "");
    return el("label", { class: "inline", title: param.description || "" }, input, label);
  }
  if (Array.isArray(schema.enum)) {
    input = el("select", { name: param.name });
    if (schema.default === undefined) input.append(el("option", { value: "", text: UNSET[param.name] || "—" }));
    for (const v of schema.enum) {
      const option = el("option", { value: String(v), text: String(v) });
      if (String(v) === String(schema.default)) option.setAttribute("selected", "");
      input.append(option);
    }
  } else if (schema.type === "integer" || schema.type === "number") {
    input = el("input", { name: param.name, type: "number", step: schema.type === "integer" ? "1" : "any" });
    if (schema.minimum !== undefined) input.min = String(schema.minimum);
    if (schema.maximum !== undefined) input.max = String(schema.maximum);
  } else {
    input = el("input", { name: param.name, type: "text", autocomplete: "off" });
    if (schema.maxLength) input.maxLength = schema.maxLength;
    if (param.name === "wm") input.setAttribute("list", "watermarks");
  }
  if (schema.default !== undefined && input.tagName === "INPUT") input.placeholder = String(schema.default);
  if (INITIAL[param.name]) input.setAttribute("value", INITIAL[param.name]);
  return el("label", { title: param.description || "" }, label, input);
}

// What the form asks, as a query: only values that differ from the server's defaults.
function renderPath() {
  const form = $("render-form");
  const query = new URLSearchParams();
  for (const param of renderParams) {
    const input = form.elements[param.name];
    const fallback = (param.schema || {}).default;
    if (!input) continue;
    if (input.type === "checkbox") {
      if (input.checked !== Boolean(fallback)) query.set(param.name, String(input.checked));
      continue;
    }
    let value = input.value.trim();
    if (((param.schema || {}).pattern || "").startsWith("^#?")) value = value.replace(/^#/, "");
    if (value !== "" && value !== String(fallback ?? "")) query.set(param.name, value);
  }
  return `/render/${current.id}?${query}`;
}

// Ready image assets (other than this one) offered as watermarks, by name.
function fillWatermarks(id) {
  const usable = state.items.filter((i) => i.id !== id && (i.status || "ready") === "ready"
    && ["image", "vector", "complex_image", undefined].includes(i.kind));
  $("watermarks").replaceChildren(...usable.map((i) => el("option", {
    value: i.id, label: (i.source && i.source.filename) || i.filename || i.id })));
}

let renderTimer;
let renderSeq = 0; // the render being shown: an answer for an earlier form state is dropped
let renderBlob = null;
function updateRender() {
  clearTimeout(renderTimer);
  renderTimer = setTimeout(async () => {
    const asset = current;
    if (!asset || asset.status !== "ready") return;
    const mine = ++renderSeq;
    const path = await signed(renderPath());
    if (asset !== current || mine !== renderSeq) return; // navigated away or changed meanwhile
    $("render-url").value = new URL(path, location.origin).href;
    showRender(path, mine);
  }, 200);
}

// Fetched rather than left to the <img>: the answer's bytes, type and error body are shown.
async function showRender(path, mine) {
  const info = $("render-info"), error = $("render-error");
  info.textContent = "Rendering…";
  let response, blob;
  try {
    response = await fetch(path, { headers: { Accept: IMAGE_ACCEPT }, credentials: "same-origin" });
    blob = response.ok ? await response.blob() : null;
  } catch (err) {
    if (mine !== renderSeq) return;
    info.textContent = "";
    error.textContent = `Could not fetch the render (${err.message})`;
    error.hidden = false;
    return;
  }
  if (mine !== renderSeq) return;
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    if (mine !== renderSeq) return;
    info.textContent = "";
    error.textContent = body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`;
    error.hidden = false;
    $("render-preview").removeAttribute("src");
    return;
  }
  error.hidden = true;
  const type = (response.headers.get("content-type") || blob.type || "").split(";")[0];
  const format = type.replace(/^image\//, "");
  const img = $("render-preview");
  if (renderBlob) URL.revokeObjectURL(renderBlob);
  renderBlob = URL.createObjectURL(blob);
  img.onload = () => {
    if (mine === renderSeq) info.textContent = `${img.naturalWidth} × ${img.naturalHeight} px · ${humanBytes(blob.size)} · ${format}`;
  };
  img.onerror = () => {
    if (mine === renderSeq) info.textContent = `${humanBytes(blob.size)} · ${format} (this browser cannot show it)`;
  };
  img.src = renderBlob;
}

async function copyUrl() {
  const input = $("render-url");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand("copy");
  }
  $("copied").textContent = "Copied";
  setTimeout(() => ($("copied").textContent = ""), 1500);
}

function wireAsset() {
  // A prompt or mask renders on Enter or leaving the field, not per typing pause: each
  // render of a new prompt is a model run (and, on bedrock, paid for).
  const onCommit = new Set(["prompt", "mask"]);
  $("render-form").addEventListener("input", (e) => { if (!onCommit.has(e.target.name)) updateRender(); });
  $("render-form").addEventListener("change", (e) => { if (onCommit.has(e.target.name)) updateRender(); });
  $("render-form").addEventListener("reset", () => setTimeout(updateRender)); // after the reset
  $("render-form").addEventListener("submit", (e) => e.preventDefault());
  $("copy").addEventListener("click", copyUrl);
  $("reprocess").addEventListener("click", async () => {
    if (!current) return;
    const id = current.id; // `current` is reset while the page reloads
    await api(`/v1/assets/${id}/reprocess`, { method: "POST" });
    openAsset(id);
    const poll = async () => {
      if (location.hash !== `#/asset/${id}`) return; // the person went elsewhere
      const m = await api(`/v1/assets/${id}`);
      if (m.status === "ready" || m.status === "failed") openAsset(id);
      else setTimeout(poll, 500);
    };
    setTimeout(poll, 300);
  });
  const del = $("delete");
  del.addEventListener("click", async () => {
    if (!current) return;
    const id = current.id;
    if (del.dataset.armed !== "1") { // two steps instead of a confirm() dialog
      del.dataset.armed = "1";
      del.textContent = "Click again to delete";
      setTimeout(() => { del.dataset.armed = ""; del.textContent = "Delete"; }, 4000);
      return;
    }
    await api(`/v1/assets/${id}`, { method: "DELETE" });
    del.dataset.armed = "";
    del.textContent = "Delete";
    state.seen.delete(id);
    for (const li of $("grid").querySelectorAll(`a[data-id="${id}"]`)) li.parentElement.remove();
    location.hash = "#/";
  });
}

// ---------------------------------------------------------------- start
async function start() {
  let session;
  try {
    session = await api("/session");
  } catch {
    return; // showSignIn() already ran on 401
  }
  state.signing = Boolean(session.signing);
  wireDrop();
  wireAsset();
  await buildPlayground();
  $("search").addEventListener("input", onSearch);
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !$("library").hidden) loadMore();
  }, { rootMargin: "400px" }).observe($("sentinel"));
  window.addEventListener("hashchange", route);
  await detectSearch();
  route();
}

start();
