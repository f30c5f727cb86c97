// What each web app downloads at start, cold cache, in headless Debian Chromium: bytes on the
// wire (compressed, headers included, from the DevTools protocol) and requests until the first
// screen is up and the network is quiet. Takes screenshots at phone (390×844) and desktop
// (1440×900) size. Prints one JSON line: { pages: [{ name, url, bytes, requests, ... }] }.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(new URL("../../gateway/web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const BASE = process.env.BASE_URL || "http://127.0.0.1:8000";
const OUT = process.env.ARTIFACTS || "test-artifacts/browser";
const PASSWORD = "yiwang-demo";
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1440, height: 900 } };
// [name, path, demo account signed in beforehand (null: as a visitor), what the first screen shows]
const PAGES = [
  ["landing", "/", null, "#apps a"],
  ["citizen", "/citizen/", null, "#report-form select[name=category] option + option"],
  ["worker", "/worker/", null, "form input[name=username]"],
  ["worker (signed in)", "/worker/", "demo_grid", "nav.tabs"],
  ["volunteer", "/volunteer/", null, "form input[name=username]"],
  ["volunteer (signed in)", "/volunteer/", "demo_volunteer", "nav.tabs"],
  ["enterprise", "/enterprise/", null, "form input[name=username]"],
  ["enterprise (signed in)", "/enterprise/", "demo_enterprise", "nav.tabs"],
  ["dashboard", "/dashboard/", null, "form input[name=username]"],
  ["dashboard (signed in)", "/dashboard/", "demo_leader", ".kpis .kpi"],
  ["admin", "/admin/", null, "form input[name=username]"],
  ["admin (signed in)", "/admin/", "demo_admin", "nav.tabs"],
];
const log = (...a) => console.error("[weight]", ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function login(username) {
  const r = await fetch(`${BASE}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": crypto.randomUUID() },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (!r.ok) throw new Error(`login ${username}: ${r.status}`);
  const pair = await r.json();
  return { access: pair.access_token, refresh: pair.refresh_token, account: pair.account };
}

async function measure(browser, [name, path, user, ready], size) {
  const context = await browser.newContext({ viewport: SIZES[size], locale: "zh-CN", serviceWorkers: "block" });
  if (user) {
    const app = path.split("/")[1];
    const auth = await login(user);
    await context.addInitScript(([key, value]) => { localStorage.setItem(key, value); }, [`yw.auth.${app}`, JSON.stringify(auth)]);
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });  // cold cache
  const reqs = new Map();
  let lastActivity = Date.now();
  cdp.on("Network.requestWillBeSent", (e) => {
    lastActivity = Date.now();
    if (!reqs.has(e.requestId)) reqs.set(e.requestId, { url: e.request.url, method: e.request.method, bytes: 0, status: 0, done: false });
  });
  cdp.on("Network.responseReceived", (e) => {
    const r = reqs.get(e.requestId);
    if (r) { r.status = e.response.status; r.type = e.response.mimeType; r.encoding = e.response.headers["content-encoding"] || e.response.headers["Content-Encoding"] || ""; }
  });
  cdp.on("Network.dataReceived", (e) => { const r = reqs.get(e.requestId); if (r) r.streamed = (r.streamed || 0) + e.encodedDataLength; });
  cdp.on("Network.loadingFinished", (e) => {
    lastActivity = Date.now();
    const r = reqs.get(e.requestId);
    if (r) { r.bytes = e.encodedDataLength; r.done = true; }
  });
  cdp.on("Network.loadingFailed", (e) => {
    lastActivity = Date.now();
    const r = reqs.get(e.requestId);
    if (r) { r.failed = e.errorText; r.done = true; }
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const started = Date.now();
  await page.goto(BASE + path, { waitUntil: "load" });
  let shown = true;
  try { await page.waitForSelector(ready, { timeout: 20000, state: "attached" }); } catch { shown = false; }
  // quiet: nothing started or finished for 1.5 s (a live stream stays open; it is counted)
  while (Date.now() - lastActivity < 1500 && Date.now() - started < 30000) await sleep(200);
  const elapsed = Date.now() - started;
  const slug = name.replace(/[^a-z]+/g, "-").replace(/-$/, "");
  const shotPath = join(OUT, `weight-${slug}-${size}.png`);
  await page.screenshot({ path: shotPath, fullPage: false });
  const list = [...reqs.values()].filter((r) => !r.url.startsWith("data:"));
  const bytes = list.reduce((s, r) => s + (r.done ? r.bytes : r.streamed || 0), 0);
  const text = await page.evaluate(() => document.body.innerText);
  await context.close();
  return {
    name, path, size, user, shown, elapsed_ms: elapsed, screenshot: shotPath,
    requests: list.length, bytes,
    openapi: list.filter((r) => new URL(r.url).pathname === "/openapi.json").length,
    bad: list.filter((r) => r.status === 404 || r.status >= 500 || (r.failed && r.failed !== "net::ERR_ABORTED")).map((r) => `${r.status || r.failed} ${r.method} ${r.url}`),
    refused: list.filter((r) => r.status >= 400 && r.status < 500 && r.status !== 404).map((r) => `${r.status} ${r.method} ${r.url}`),
    uncompressed_text: list.filter((r) => r.done && r.bytes > 2048 && /javascript|css|json|html|svg/.test(r.type || "") && !r.encoding).map((r) => r.url),
    streams: list.filter((r) => (r.type || "").includes("event-stream")).map((r) => `${r.encoding || "identity"} ${new URL(r.url).pathname}`),
    largest: list.sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((r) => `${r.bytes} ${new URL(r.url).pathname}`),
    shows: /null|NaN|undefined/.test(text) ? text.match(/.{0,30}(null|NaN|undefined).{0,30}/)[0] : "",
    errors,
  };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
mkdirSync(OUT, { recursive: true });
const pages = [];
try {
  for (const spec of PAGES) {
    for (const size of ["phone", "desktop"]) {
      const m = await measure(browser, spec, size);
      log(`${m.name} ${size}: ${m.bytes} B in ${m.requests} requests, ${m.elapsed_ms} ms`);
      pages.push(m);
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ pages }));
