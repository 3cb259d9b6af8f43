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

// ---------------------------------------------------------------- views and routing
const state = { items: [], cursor: undefined, loading: false, done: false, query: "",
                searchApi: null, signing: false, seen: new Set(), listing: 0 };

function show(view) {
  for (const id of ["signin", "library", "asset"]) $(id).hidden = id !== view;
  const signedIn = view !== "signin";
  $("logout").hidden = !signedIn;
  document.querySelector(".search").hidden = view !== "library";
}

function showSignIn() {
  show("signin");
  $("signin-error").hidden = location.hash !== "#signin-failed";
  document.querySelector("#signin input").focus();
}

async function route() {
  const match = location.hash.match(/^#\/asset\/([A-Za-z0-9_-]{21})$/);
  if (match) return openAsset(match[1]);
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
    box.append(el("span", { class: status === "failed" ? "state-failed" : "muted", text: status }));
  }
  const link = el("a", { href: `#/asset/${id}`, "data-id": id }, box,
                  el("div", { class: "caption", text: name, title: name }));
  return el("li", {}, link);
}

function addItems(items, { prepend = false } = {}) {
  const grid = $("grid");
  for (const item of items) {
    if (!item || !ID_RE.test(item.id) || state.seen.has(item.id)) continue;
    state.seen.add(item.id);
    state.items.push(item);
    const node = tile(item);
    node.dataset.name = ((item.source && item.source.filename) || item.filename || "").toLowerCase();
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
function uploadFiles(files) {
  const list = $("uploads");
  const preRender = $("pre-render").checked;
  for (const file of files) {
    const bar = el("progress", { max: "100", value: "0" });
    const status = el("span", { class: "state", text: "uploading" });
    const row = el("li", {}, el("span", { class: "name", text: file.name, title: file.name }), bar, status);
    list.prepend(row);
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("pre_render_sizes", preRender ? "true" : "false");
    const xhr = new XMLHttpRequest(); // fetch() reports no upload progress
    xhr.open("POST", `${API}/v1/assets`);
    xhr.setRequestHeader("x-picsha-console", "1");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* shown below */ }
      if (xhr.status !== 202 || !body || !ID_RE.test(body.id)) {
        const err = body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${xhr.status}`;
        setState(status, "failed", err);
        return;
      }
      bar.value = 100;
      row.dataset.id = body.id;
      follow(body.id, status);
    });
    xhr.addEventListener("error", () => setState(status, "failed", "network error"));
    xhr.send(form);
  }
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
    setState(statusNode, manifest.status, error);
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
let opening = 0; // which navigation is current: a late answer for an earlier one is dropped

// Nothing of the asset shown before survives a navigation: not its preview, not its
// playground, not its URL (a failed asset would otherwise show the previous one's).
function resetAsset(id) {
  current = null;
  clearTimeout(renderTimer);
  $("asset-title").textContent = id;
  $("asset-status").textContent = "Loading…";
  $("asset-status").className = "status";
  $("details").replaceChildren();
  $("analysis").replaceChildren();
  $("derivatives").tBodies[0].replaceChildren();
  for (const img of [$("preview"), $("render-preview")]) img.removeAttribute("src");
  $("preview").alt = "";
  $("preview").parentElement.hidden = true;
  $("render-url").value = "";
  $("render-error").hidden = true;
  document.querySelector(".playground").hidden = true;
}

async function openAsset(id) {
  const mine = ++opening;
  show("asset");
  resetAsset(id);
  let manifest;
  try {
    manifest = await api(`/v1/assets/${id}`);
  } catch (err) {
    if (mine === opening) $("asset-status").textContent = err.message;
    return;
  }
  if (mine !== opening) return;
  current = manifest;
  const src = manifest.source || {};
  $("asset-title").textContent = src.filename || id;
  const err = manifest.error;
  $("asset-status").textContent = err ? `${manifest.status} — ${err.stage}/${err.code}: ${err.message}` : manifest.status;
  $("asset-status").className = `status state-${manifest.status}`;
  fillDetails(manifest);
  fillAnalysis(manifest.analysis);
  fillDerivatives(manifest.derivatives || {});
  if (manifest.status !== "ready") return; // nothing to preview or render (yet)
  document.querySelector(".playground").hidden = false;
  updateRender();
  const preview = await signed(`/render/${id}?wd=1200&fm=webp`);
  if (mine !== opening) return;
  $("preview").alt = src.filename || "preview";
  $("preview").src = preview;
  $("preview").parentElement.hidden = false;
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
  row(list, "file size", src.size != null ? `${src.size.toLocaleString()} bytes` : "");
  if (image.width) row(list, "dimensions", `${image.width} × ${image.height}`);
  row(list, "ICC profile", image.icc || "");
  const camera = meta.camera ? Object.values(meta.camera).filter((v) => typeof v === "string").join(" ") : "";
  row(list, "camera", camera);
  row(list, "lens", typeof meta.lens === "string" ? meta.lens : "");
  row(list, "taken", typeof meta.taken_at === "string" ? meta.taken_at : "");
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

function fillDerivatives(derivatives) {
  const body = $("derivatives").tBodies[0];
  for (const [name, d] of Object.entries(derivatives)) {
    const size = d.width ? `${d.width} × ${d.height}` : "";
    body.append(el("tr", {}, el("td", { text: name }), el("td", { text: size }),
                   el("td", { text: String(d.bytes ?? "") })));
  }
  if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: "3", class: "muted", text: "none" })));
}

async function signed(path) {
  if (!state.signing) return path;
  const body = await api(`/sign?${new URLSearchParams({ url: path })}`);
  return body.url;
}

// ---------------------------------------------------------------- render playground
function renderPath() {
  const form = $("render-form");
  const params = new URLSearchParams();
  const value = (name) => form.elements[name].value.trim();
  for (const name of ["wd", "ht", "q"]) if (value(name)) params.set(name, value(name));
  if (form.elements.crop.checked) params.set("crop", "true");
  else if (value("fit") !== "inside") params.set("fit", value("fit"));
  if (value("g") !== "center") params.set("g", value("g"));
  if (value("fm")) params.set("fm", value("fm"));
  if (value("dpr") !== "1") params.set("dpr", value("dpr"));
  if (value("bg")) params.set("bg", value("bg").replace(/^#/, ""));
  return `/render/${current.id}?${params}`;
}

let renderTimer;
function updateRender() {
  clearTimeout(renderTimer);
  renderTimer = setTimeout(async () => {
    const asset = current;
    if (!asset || asset.status !== "ready") return;
    const path = await signed(renderPath());
    if (asset !== current) return; // navigated away meanwhile
    $("render-url").value = new URL(path, location.origin).href;
    $("render-error").hidden = true;
    $("render-preview").src = path;
  }, 200);
}

async function showRenderError() {
  // The <img> cannot read an error body; fetch it once to say what was wrong.
  const response = await fetch($("render-url").value);
  const body = await response.json().catch(() => null);
  $("render-error").textContent = body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`;
  $("render-error").hidden = false;
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
  $("render-form").addEventListener("input", updateRender);
  $("render-form").addEventListener("submit", (e) => e.preventDefault());
  $("render-preview").addEventListener("error", () => { if ($("render-preview").src) showRenderError(); });
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
  $("search").addEventListener("input", onSearch);
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !$("library").hidden) loadMore();
  }, { rootMargin: "400px" }).observe($("sentinel"));
  window.addEventListener("hashchange", route);
  await detectSearch();
  route();
}

start();
