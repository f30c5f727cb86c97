// The case workbench (/workbench/) in headless Debian Chromium: a citizen's report (set up
// through the API) goes from 受理 to 结案 through the pages only — demo_community accepts and
// re-dispatches it on a phone (390×844), a stale write is refused with the reason in Chinese,
// demo_city supervises it and demo_dept answers the supervision, takes the case up and
// handles it with a note and a photo on a desktop (1440×900),
// demo_community verifies and closes it. Every step is a click; after the setup the script
// itself sends no write to the API (it throws if it tries), and every request the pages make
// must be a documented path. Prints one JSON line of results.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(new URL("../../gateway/web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const BASE = process.env.BASE_URL || "http://127.0.0.1:8000";
const OUT = process.env.ARTIFACTS || "test-artifacts/browser";
const PASSWORD = "yiwang-demo";
const GRID = "329901001001001";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const HANDLER_DEPT = "urban_management";

const result = { steps: {}, screenshots: [], page_errors: [], console_errors: [], notes: [],
  undocumented_requests: [], api_writes_after_setup: [], problems: [] };
const log = (...a) => console.error("[workbench]", ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let setupDone = false;
const openPages = [];

async function http(method, path, { token, body, form } = {}) {
  if (setupDone && method !== "GET") {
    result.api_writes_after_setup.push(`${method} ${path}`);
    throw new Error(`the test fell back to the API after the setup: ${method} ${path}`);
  }
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID();
  const r = await fetch(BASE + path, { method, headers, body: form || (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await r.text();
  let data = text;
  try { data = JSON.parse(text); } catch { /* text */ }
  return { status: r.status, data };
}
async function token(username) {
  const r = await http("POST", "/api/v1/auth/login", { body: { username, password: PASSWORD } });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data.access_token;
}
async function waitFor(fn, ms, label) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(300);
  }
  throw new Error(`timed out: ${label} (${last?.message || JSON.stringify(last)})`);
}
async function shot(page, name) {
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  result.screenshots.push(path);
}

// every request a page makes must be a documented path (or a page asset); never /openapi.json
function documented(paths) {
  const patterns = Object.keys(paths).map((p) => new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`));
  return (url) => {
    const u = new URL(url);
    if (u.origin !== new URL(BASE).origin) return false;
    if (!u.pathname.startsWith("/api/") && !u.pathname.startsWith("/open311/") && u.pathname !== "/openapi.json") return true;
    return patterns.some((re) => re.test(u.pathname));
  };
}

async function pointInGrid(tok) {
  const fc = await http("GET", `/api/v1/grids/boundaries?jurisdiction=${GRID}&levels=grid&precision=6`, { token: tok });
  const f = fc.data?.features?.[0];
  if (!f) throw new Error(`no boundary for ${GRID}: ${fc.status}`);
  const ring = f.geometry.type === "Polygon" ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
  const lat = ring.reduce((a, p) => a + p[1], 0) / ring.length;
  const lon = ring.reduce((a, p) => a + p[0], 0) / ring.length;
  // part of the way to a random vertex: away from other tests' reports ("me too" within 50 m)
  const v = ring[Math.floor(Math.random() * (ring.length - 1))];
  const k = 0.2 + Math.random() * 0.5;
  return { lat: lat + (v[1] - lat) * k, lon: lon + (v[0] - lon) * k };
}

async function signIn(page, username) {
  await page.waitForSelector("form input[name=username]", { timeout: 20000 });
  await page.fill("form input[name=username]", username);
  await page.fill("form input[name=password]", PASSWORD);
  await page.click("form button[type=submit]");
  await page.waitForSelector("nav.tabs button[data-tab]", { timeout: 30000 });
}

// one action through the page: open its form, fill it, confirm, and wait for the server's answer
async function act(page, action, { text, department, photo } = {}) {
  const before = await page.$eval("[data-case-detail]", (el) => Number(el.dataset.version));
  await page.click(`#actions [data-action=${action}]`);
  await page.waitForSelector(`form[data-form=${action}]`);
  if (department) {
    await page.waitForFunction(() => document.querySelectorAll("form select[name=department] option").length > 1);
    await page.selectOption("form select[name=department]", department);
  }
  if (text !== undefined) await page.fill(`form[data-form=${action}] textarea`, text);
  if (photo) await page.setInputFiles(`form[data-form=${action}] input[type=file]`, photo);
  await page.click(`form[data-form=${action}] [data-submit=${action}]`);
  // the submit button is disabled while the request is in flight: a second tap is impossible
  const second = await page.$eval(`#actions [data-action=${action}]`, (b) => b.disabled).catch(() => true);
  await page.waitForSelector(`[data-done=${action}], form[data-form=${action}] ~ .error:not(:empty), #act-error:not(:empty)`, { timeout: 20000 });
  const done = await page.$(`[data-done=${action}]`);
  if (!done) {
    const msg = await page.$eval("#act-error", (el) => el.textContent).catch(() => "?");
    throw new Error(`${action} refused: ${msg}`);
  }
  const after = await page.$eval("[data-case-detail]", (el) => Number(el.dataset.version));
  if (!(after > before)) throw new Error(`${action}: the page shows no new version (${before} → ${after})`);
  return { disabledWhileSending: second };
}

async function status(page) {
  return page.$eval("[data-case-detail]", (el) => el.dataset.status);
}

// what must never show on a page: codes, UUIDs, null/undefined, horizontal overflow
async function audit(page, label) {
  const r = await page.evaluate(() => {
    const text = document.body.innerText;
    return {
      text,
      overflow: document.documentElement.scrollWidth - window.innerWidth,
    };
  });
  const bad = [];
  if (/\b(null|undefined|NaN)\b/.test(r.text)) bad.push("null/undefined/NaN");
  if (/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(r.text)) bad.push("a UUID");
  const codes = r.text.match(/(?<![\w-])(urban_management|transport|roads\.pothole|community_staff|department_handler|submitted|accepted|dispatched|in_progress|handled|verified|closed|on_time|case\.[a-z_]+|status\.[a-z_]+|act\.[a-z_]+|tl\.[a-z_]+|sla\.[a-z_]+)(?![\w-])/g);
  if (codes) bad.push(`codes: ${[...new Set(codes)].join(", ")}`);
  if (r.overflow > 1) bad.push(`horizontal overflow ${r.overflow}px`);
  if (bad.length) result.problems.push(`${label}: ${bad.join("; ")}`);
  return bad;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const openapi = (await http("GET", "/openapi.json")).data.paths;
  const isDocumented = documented(openapi);

  // --- setup through the API: the citizen's report with a photo --------------------------
  const citizen = await token("demo_citizen");
  const reader = await token("demo_community"); // boundaries, and the read-only check at the end
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const scratch = await browser.newPage();
  await scratch.setContent("<body style='background:#7a8;font:40px sans-serif'>路面破损</body>");
  const photo = await scratch.screenshot({ type: "jpeg", quality: 70 });
  await scratch.close();
  const form = new FormData();
  form.append("file", new Blob([photo], { type: "image/jpeg" }), "pothole.jpg");
  const media = await http("POST", "/api/v1/media", { token: citizen, form });
  const marker = `工作台测试 ${Date.now()}`;
  let filed = null;
  for (let attempt = 0; attempt < 6 && !filed; attempt += 1) {
    // a report within 50 m of an open pothole case becomes its "me too": try another point
    const where = await pointInGrid(reader);
    const report = await http("POST", "/api/v1/reports", { token: citizen, body: {
      category: "roads.pothole", attributes: { size: "large" }, lat: where.lat, lon: where.lon,
      description: `${marker}：幸福路与建设路路口路面塌陷一个大坑，电动车已摔倒两次`, address: "幸福路与建设路路口",
      media: media.status < 300 ? [media.data.url] : [], contact: { name: "王小明", phone: "13812345678" },
    } });
    if (report.status >= 300) throw new Error(`report refused: ${report.status} ${JSON.stringify(report.data)}`);
    let seen = null;
    const done = await waitFor(async () => {
      const r = await http("GET", `/api/v1/reports/${report.data.report_id}`, { token: citizen });
      seen = r.data;
      return ["case_created", "linked_duplicate"].includes(r.data?.state) ? r.data : null;
    }, 30000, "report becomes a case").catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(seen)}`); });
    if (done.state === "case_created") filed = done;
  }
  if (!filed) throw new Error("every report became a 'me too' of an open case");
  const caseId = filed.case_id;
  result.case_id = caseId;
  setupDone = true; // from here on: pages only
  log("case", caseId);

  const watch = (page, name) => {
    page.on("pageerror", (e) => result.page_errors.push(`${name}: ${e.message}`));
    page.on("request", (req) => { if (req.url().includes("/api/")) result.api_requests = (result.api_requests || 0) + 1; });
    page.on("request", (req) => { if (!isDocumented(req.url())) result.undocumented_requests.push(`${name}: ${req.method()} ${req.url()}`); });
  };
  const newPage = async (viewport, name, mobile) => {
    const ctx = await browser.newContext({ viewport, deviceScaleFactor: mobile ? 2 : 1, isMobile: mobile, hasTouch: mobile,
      locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    ctx.setDefaultTimeout(20000);
    const page = await ctx.newPage();
    watch(page, name);
    openPages.push([name, page]);
    return page;
  };

  // --- 1. demo_community on the phone: the queue, the case, accept -------------------------
  const comm = await newPage(PHONE, "community", true);
  await comm.goto(`${BASE}/workbench/`);
  await shot(comm, "wb-00-login-phone");
  await signIn(comm, "demo_community");
  await comm.waitForSelector(`#queue li[data-case-id="${caseId}"]`, { timeout: 30000 });
  result.steps.queue_shows_case = true;
  await comm.waitForSelector("[data-count=submitted]");
  result.steps.queue_count = await comm.$eval("[data-count=submitted]", (el) => el.textContent).catch(() => null);
  // the text search and the category filter narrow the queue (documented filters q, category)
  await comm.fill("input[name=q]", marker);
  await comm.waitForFunction(() => document.querySelectorAll("#queue li[data-case-id]").length === 1);
  await comm.selectOption("select[name=category]", "roads.pothole");
  await comm.waitForSelector(`#queue li[data-case-id="${caseId}"]`);
  await comm.selectOption("select[name=category]", "environment.noise");
  await comm.waitForSelector("#queue li[data-empty]");
  result.steps.search_and_filter = true;
  await shot(comm, "wb-01b-queue-empty-phone");
  await comm.selectOption("select[name=category]", "");
  await comm.fill("input[name=q]", "");
  await comm.waitForSelector(`#queue li[data-case-id="${caseId}"]`);
  await sleep(600);
  await shot(comm, "wb-01-queue-phone");
  await audit(comm, "queue (phone)");
  await comm.click(`#queue li[data-case-id="${caseId}"]`);
  await comm.waitForSelector(`[data-case-detail="${caseId}"]`);
  result.steps.reporter_masked = await comm.$eval("[data-reporter]", (el) => el.textContent.includes("*") && !el.textContent.includes("13812345678"));
  result.steps.case_photo_shown = await comm.$$eval(".photos img", (is) => is.length > 0);
  await sleep(400);
  await shot(comm, "wb-02-case-submitted-phone");
  await audit(comm, "case submitted (phone)");
  const offered = await comm.$$eval("#actions [data-action]", (bs) => bs.map((b) => b.dataset.action));
  result.steps.offered_submitted = offered;
  // slow the network down for this one action: the page must not claim success before the
  // server answers, and a second tap while it is in flight must send nothing
  let actionPosts = 0;
  await comm.route("**/api/v1/cases/*/actions", async (route) => { actionPosts += 1; await sleep(1500); await route.continue(); });
  await comm.click("#actions [data-action=accept]");
  await comm.fill("form[data-form=accept] textarea", "已受理，请相关部门处置");
  await comm.click("form[data-form=accept] [data-submit=accept]");
  await sleep(300);
  result.steps.in_flight = await comm.evaluate(() => {
    const b = document.querySelector("[data-submit=accept]");
    const early = !!document.querySelector("[data-done=accept]");
    b?.click(); b?.click();
    return { disabled: !!b?.disabled, success_shown_early: early, label: b?.textContent };
  });
  await comm.waitForSelector("[data-done=accept]", { timeout: 20000 });
  await comm.unroute("**/api/v1/cases/*/actions");
  result.steps.accept_posts = actionPosts;
  result.steps.accepted = ["accepted", "dispatched"].includes(await status(comm));

  // --- 2. dispatch: the routing rules route on acceptance; the community re-dispatches ----
  // (auto-routing sends a pothole to 交通运输局; the page updates live, then 改派 to 城市管理局)
  await comm.waitForFunction(() => document.querySelector("[data-case-detail]")?.dataset.status === "dispatched"
    || document.querySelector("#actions [data-action=dispatch]"), null, { timeout: 15000 }).catch(() => null);
  await sleep(800);
  const dispatchAction = (await comm.$("#actions [data-action=dispatch]")) ? "dispatch" : "reassign";
  result.steps.dispatch_action = dispatchAction;
  await shot(comm, "wb-03-case-auto-routed-phone");
  await comm.click(`#actions [data-action=${dispatchAction}]`);
  await comm.waitForSelector(`form[data-form=${dispatchAction}]`);
  await comm.waitForFunction(() => document.querySelector("[data-suggest]")?.textContent, null, { timeout: 10000 }).catch(() => null);
  result.steps.routing_suggestion = await comm.$eval("[data-suggest]", (el) => el.textContent).catch(() => null);
  await comm.click(`form[data-form=${dispatchAction}] button.ghost`); // cancel: reopened below by act()
  await act(comm, dispatchAction, { department: HANDLER_DEPT, text: "路面塌陷由城管先行围挡处置" });
  result.steps.dispatched_to_department = await comm.$eval("[data-department]", (el) => el.dataset.department) === HANDLER_DEPT;
  await shot(comm, "wb-04-case-dispatched-phone");

  // --- 3. a stale write is refused with the reason in Chinese -----------------------------
  // the community opens 改派 (the page holds the version it read); meanwhile the department
  // takes the case up in its own workbench; the community's confirm is then refused (409)
  await comm.click("#actions [data-action=reassign]");
  await comm.waitForSelector("form[data-form=reassign]");

  const dept = await newPage(DESKTOP, "department", false);
  await dept.goto(`${BASE}/workbench/`);
  await signIn(dept, "demo_dept");
  await dept.waitForSelector(`#queue li[data-case-id="${caseId}"]`, { timeout: 30000 });
  result.steps.dept_queue_shows_case = true;
  await sleep(500);
  await shot(dept, "wb-05-queue-dept-desktop");
  await audit(dept, "queue (desktop, department)");
  await dept.click(`#queue li[data-case-id="${caseId}"]`);
  await dept.waitForSelector(`[data-case-detail="${caseId}"]`);
  await act(dept, "start", { text: "已到现场围挡" });
  result.steps.dept_started = (await status(dept)) === "in_progress";

  await comm.waitForFunction(() => document.querySelectorAll("form select[name=department] option").length > 1);
  await comm.selectOption("form select[name=department]", "transport");
  await comm.click("form[data-form=reassign] [data-submit=reassign]");
  await comm.waitForSelector("#act-error:not(:empty)", { timeout: 20000 });
  const refusal = await comm.$eval("#act-error", (el) => ({ text: el.textContent, code: el.dataset.code || "" }));
  result.steps.refusal = refusal;
  result.steps.refusal_in_chinese = /[\u4e00-\u9fff]/.test(refusal.text) && !(await comm.$("[data-done=reassign]"));
  // the page re-read the case: the department's start is shown, the buttons work again
  await comm.waitForFunction(() => document.querySelector("[data-case-detail]")?.dataset.status === "in_progress", null, { timeout: 15000 });
  result.steps.refusal_reenabled = await comm.$$eval("#actions [data-action]", (bs) => bs.length > 0 && bs.every((b) => !b.disabled));
  result.steps.refusal_still_shown = await comm.$eval("#act-error", (el) => el.dataset.refused === "reassign" && el.textContent.length > 0);
  await shot(comm, "wb-06-refused-phone");

  // --- 3b. city staff supervise (督办) it; the department answers the supervision ----------
  const city = await newPage(DESKTOP, "city", false);
  await city.goto(`${BASE}/workbench/#case=${caseId}`);
  await signIn(city, "demo_city");
  await city.waitForSelector(`[data-case-detail="${caseId}"]`);
  await act(city, "supervise", { text: "群众反映强烈，请今日办结并回复" }).catch(async (e) => {
    // supervision is recorded by the command centre: the case's own version does not move
    if (!(await city.$("[data-done=supervise]"))) throw e;
  });
  result.steps.supervised = !!(await city.$("[data-done=supervise]"));
  await city.waitForSelector("[data-supervision]", { timeout: 15000 });
  await shot(city, "wb-06b-supervised-city-desktop");
  await city.context().close();
  await dept.reload();
  await dept.waitForSelector("[data-supervision] [data-action=answer]", { timeout: 20000 });
  await dept.click("[data-supervision] [data-action=answer]");
  await dept.fill("form[data-form=answer] textarea", "已安排人员今日修复");
  await dept.click("[data-submit=answer]");
  await dept.waitForSelector("[data-done=answer]", { timeout: 20000 });
  await dept.waitForSelector("[data-supervision] .list li", { timeout: 10000 });
  result.steps.supervision_answered = true;
  await shot(dept, "wb-06c-supervision-answered-desktop");

  // --- 4. the department handles it with a note and a photo -------------------------------
  await act(dept, "handle", { text: "已修补路面坑洞，恢复通行", photo: { name: "fixed.jpg", mimeType: "image/jpeg", buffer: photo } });
  result.steps.dept_handled = (await status(dept)) === "handled";
  result.steps.handle_photo_in_timeline = await dept.$$eval("#timeline li[data-action=handle] .photos img", (is) => is.length > 0);
  await sleep(500);
  await shot(dept, "wb-07-case-handled-desktop");
  await audit(dept, "case handled (desktop, department)");

  // --- 5. the community verifies and closes ----------------------------------------------
  await comm.waitForFunction(() => document.querySelector("[data-case-detail]")?.dataset.status === "handled", null, { timeout: 20000 });
  result.steps.community_saw_handled_live = true;
  await act(comm, "verify", { text: "现场核查，路面已修复" });
  result.steps.verified = (await status(comm)) === "verified";
  await act(comm, "close", { text: "办结" });
  result.steps.closed_on_page = (await status(comm)) === "closed";
  await sleep(500);
  await shot(comm, "wb-08-case-closed-phone");
  await audit(comm, "case closed (phone)");
  result.steps.no_actions_after_close = !(await comm.$("#actions [data-action=accept], #actions [data-action=close]"));
  await comm.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await sleep(300);
  await shot(comm, "wb-09-case-closed-timeline-phone");

  // the department's desktop shows the closed case too
  await dept.reload();
  await dept.waitForSelector(`[data-case-detail="${caseId}"]`, { timeout: 30000 });
  result.steps.dept_sees_closed = (await status(dept)) === "closed";
  await sleep(500);
  await shot(dept, "wb-10-case-closed-desktop");
  await audit(dept, "case closed (desktop)");

  // the community's desktop and English
  const commDesk = await newPage(DESKTOP, "community-desktop", false);
  await commDesk.goto(`${BASE}/workbench/#case=${caseId}`);
  await signIn(commDesk, "demo_community");
  await commDesk.waitForSelector(`[data-case-detail="${caseId}"]`);
  await sleep(600);
  await shot(commDesk, "wb-11-community-desktop");
  await audit(commDesk, "case (desktop, community)");
  await commDesk.click(".topbar button.lang");
  await commDesk.waitForFunction(() => document.documentElement.lang === "en");
  await sleep(600);
  await shot(commDesk, "wb-12-community-desktop-en");
  await commDesk.click("nav.tabs button[data-tab=all]");
  await commDesk.waitForSelector(`#queue li[data-case-id="${caseId}"]`);
  await sleep(800);
  await shot(commDesk, "wb-13-queue-all-desktop-en");
  await audit(commDesk, "queue (desktop, English)");

  // English on the phone: longer labels must not overflow either
  await comm.click(".topbar button.lang");
  await comm.waitForFunction(() => document.documentElement.lang === "en");
  await comm.evaluate(() => window.scrollTo(0, 0));
  await sleep(600);
  await shot(comm, "wb-14-case-closed-phone-en");
  await audit(comm, "case closed (phone, English)");
  await comm.click("button.back");
  await comm.waitForSelector("#queue");
  await sleep(600);
  await shot(comm, "wb-15-queue-phone-en");
  await audit(comm, "queue (phone, English)");

  // read-only check that the pages told the truth
  const final = await http("GET", `/api/v1/cases/${caseId}`, { token: reader });
  result.steps.server_status = final.data?.status;
  await browser.close();
}

main().then(() => {
  console.log(JSON.stringify(result));
}, async (e) => {
  for (const [name, page] of openPages) await shot(page, `wb-failed-${name}`).catch(() => null);
  result.error = String(e?.stack || e);
  console.log(JSON.stringify(result));
  console.error(e);
  process.exit(1);
});
