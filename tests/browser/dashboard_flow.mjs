// The leaders' dashboard (/dashboard/) in headless Debian Chromium, as demo_leader at phone
// (390×844) and desktop (1440×900) size. Setup through the API: cases from several sources
// (市民随手拍, 网上意见箱, a grid patrol finding), an enterprise demand, a key project, and
// on the cases a whistle, an escalation and a supervision. Then through the pages: each of the
// eight tabs shows non-empty, named content; the map's unit list drills city → grid; the
// league tables are there; the list filters and exports; the administrator gets a notice,
// not permission errors. No code, UUID, null or NaN on any page. Prints one JSON line.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(new URL("../../gateway/web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const BASE = process.env.BASE_URL || "http://127.0.0.1:8000";
const OUT = process.env.ARTIFACTS || "test-artifacts/browser";
const PASSWORD = "yiwang-demo";
const GRID = "329901001001001";
const CHAIN = ["329901", "329901001", "329901001001", GRID];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const TABS = ["overview", "decision", "citizen", "enterprise", "grassroots", "supervision", "linkage", "ranking"];

const result = { steps: {}, tabs: {}, screenshots: [], page_errors: [], notes: [], undocumented_requests: [], problems: [] };
const log = (...a) => console.error("[dashboard]", ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const openPages = [];

async function http(method, path, { token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID();
  const r = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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
    await sleep(400);
  }
  throw new Error(`timed out: ${label} (${last?.message || JSON.stringify(last)})`);
}
async function shot(page, name, fullPage = false) {
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, fullPage });
  result.screenshots.push(path);
}
function documented(paths) {
  const patterns = Object.keys(paths).map((p) => new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`));
  return (url) => {
    const u = new URL(url);
    if (u.protocol === "blob:" || u.protocol === "data:") return true;
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
  const v = ring[Math.floor(Math.random() * (ring.length - 1))];
  const k = 0.2 + Math.random() * 0.6;
  return { lat: lat + (v[1] - lat) * k, lon: lon + (v[0] - lon) * k };
}

// what must never show on a page: codes, UUIDs, null/undefined/NaN, horizontal overflow
async function audit(page, label, { codes: checkCodes = true } = {}) {
  const r = await page.evaluate(() => ({ text: document.body.innerText, overflow: document.documentElement.scrollWidth - window.innerWidth }));
  const bad = [];
  if (/\b(null|undefined|NaN)\b/.test(r.text)) bad.push("null/undefined/NaN");
  if (/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(r.text)) bad.push("a UUID");
  if (/(?<![0-9])3299[0-9]{2,14}(?![0-9])/.test(r.text)) bad.push("a unit code");
  const codes = r.text.match(/(?<![\w-])(urban_management|transport|human_resources|power_supply|in_approval|roads\.[a-z_]+|appearance\.[a-z_]+|suggestion_box|volunteer_order|citizen|patrol|sensor|hotline|open311|submitted|accepted|dispatched|in_progress|handled|verified|closed|on_time|rising_overdue|repeat_address|spike|case\.[a-z_]+|status\.[a-z_]+|tl\.[a-z_]+|map\.[a-z_]+|tab\.[a-z_]+|kpi\.[a-z_]+|rank\.[a-z_]+|project\.[a-z_]+|demand\.[a-z_]+|source\.[a-z_]+)(?![\w-])/g);
  if (codes && checkCodes) bad.push(`codes: ${[...new Set(codes)].join(", ")}`);
  if (r.overflow > 1) bad.push(`horizontal overflow ${r.overflow}px`);
  if (bad.length) result.problems.push(`${label}: ${bad.join("; ")}`);
  return bad;
}

async function report(citizen, reader, source, marker) {
  for (let attempt = 0; attempt < 6; attempt += 1) {
    const where = await pointInGrid(reader);
    const r = await http("POST", "/api/v1/reports", { token: citizen, body: {
      category: "roads.pothole", attributes: { size: "large" }, lat: where.lat, lon: where.lon, source,
      description: `${marker}：路口路面塌陷一个大坑`, address: "幸福路与建设路路口",
      contact: { name: "王小明", phone: "13812345678" } } });
    if (r.status >= 300) throw new Error(`report refused: ${r.status} ${JSON.stringify(r.data)}`);
    const done = await waitFor(async () => {
      const s = await http("GET", `/api/v1/reports/${r.data.report_id}`, { token: citizen });
      return ["case_created", "linked_duplicate"].includes(s.data?.state) ? s.data : null;
    }, 30000, "report becomes a case");
    if (done.state === "case_created") return done.case_id;
  }
  throw new Error("every report became a 'me too'");
}
async function viewRow(tok, caseId, query = "") {
  return waitFor(async () => {
    const r = await http("GET", `/api/v1/command/cases/${caseId}`, { token: tok });
    return r.status === 200 && r.data?.case?.version ? r.data.case : null;
  }, 30000, `case ${caseId} in the command view ${query}`);
}

async function act(tok, caseId, action, fields = {}) {
  const c = await http("GET", `/api/v1/cases/${caseId}`, { token: tok });
  const r = await http("POST", `/api/v1/cases/${caseId}/actions`, { token: tok, body: { action, expected_version: c.data?.version, fields } });
  if (r.status !== 200) throw new Error(`${action} refused: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}

async function setup() {
  const citizen = await token("demo_citizen");
  const leader = await token("demo_leader");
  const street = await token("demo_street");
  const community = await token("demo_community");
  const marker = `驾驶舱测试${Date.now() % 100000}`;
  result.marker = marker;
  const citizenCase = await report(citizen, leader, "citizen", `${marker}随手拍`);
  const boxCase = await report(citizen, leader, "suggestion_box", `${marker}意见箱`);
  // a case with a department: the departments' league table has a row of this run's own
  const deptCase = await report(citizen, leader, "citizen", `${marker}派遣`);
  await act(community, deptCase, "accept", { note: "受理" });
  // a routing rule may dispatch it on acceptance; else the community dispatches by hand
  const routed = await waitFor(async () => {
    const c = await http("GET", `/api/v1/cases/${deptCase}`, { token: community });
    return c.data?.status === "dispatched" ? c.data : null;
  }, 10000, "routed on acceptance").catch(() => null);
  if (!routed) await act(community, deptCase, "dispatch", { department: "urban_management" });
  await waitFor(async () => {
    const r = await http("GET", `/api/v1/command/cases/${deptCase}`, { token: leader });
    return r.data?.case?.department ? r.data.case : null;
  }, 30000, "the dispatched case in the command view");
  // a grid worker's patrol finding
  const grid = await token("demo_grid");
  const p = await http("POST", "/api/v1/grids/patrols", { token: grid, body: { grid_code: GRID } });
  if (p.status !== 201) throw new Error(`patrol: ${p.status} ${JSON.stringify(p.data)}`);
  const where = await pointInGrid(leader);
  const now = Date.now();
  await http("POST", `/api/v1/grids/patrols/${p.data.patrol_id}/points`, { token: grid, body: { points: [0, 1].map((i) => ({ at: new Date(now + i * 30000).toISOString(), lat: where.lat, lon: where.lon })) } });
  const f = await http("POST", `/api/v1/grids/patrols/${p.data.patrol_id}/findings`, { token: grid, body: { category: "roads.streetlight", description: `${marker}巡查发现路灯不亮`, lat: where.lat, lon: where.lon } });
  if (f.status !== 201) throw new Error(`finding: ${f.status} ${JSON.stringify(f.data)}`);
  await http("POST", `/api/v1/grids/patrols/${p.data.patrol_id}/end`, { token: grid, body: {} });
  const patrolCase = await waitFor(async () => {
    const r = await http("GET", `/api/v1/command/cases?jurisdiction=${GRID}&source=patrol&q=${encodeURIComponent(marker)}`, { token: leader });
    return r.data?.items?.[0];
  }, 30000, "the patrol finding in the command view");
  // an enterprise demand and a key project
  const ent = await token("demo_enterprise");
  const d = await http("POST", "/api/v1/enterprise/demands", { token: ent, body: { category: "power_supply", title: `${marker}新厂房申请增容`, description: "新厂房下月投产，现有变压器容量不足", urgency: "urgent", attachments: [] } });
  result.steps.demand_filed = d.status;
  const me = await http("GET", "/api/v1/auth/me", { token: leader });
  const pr = await http("POST", "/api/v1/enterprise/projects", { token: leader, body: { name: `${marker}智能装备产业园`, district_code: "329901", leader_id: me.data.account_id || me.data.id || "demo_leader",
    steps: [{ name: "用地预审", department: "natural_resources", working_days: 10 }, { name: "规划许可", department: "housing", working_days: 5 }] } });
  result.steps.project_created = pr.status;
  if (pr.status < 300) await http("POST", `/api/v1/enterprise/projects/${pr.data.project_id}/start`, { token: leader, body: {} });
  // on the cases: a whistle (street), an escalation (community), a supervision (leader)
  const rowP = await viewRow(street, patrolCase.case_id);
  const w = await http("POST", `/api/v1/command/cases/${patrolCase.case_id}/whistle`, { token: street, body: { caller_code: "329901001", departments: ["urban_management", "housing"], deadline_hours: 2, note: "街道吹哨，部门报到", expected_version: rowP.version } });
  result.steps.whistle = w.status;
  const rowC = await viewRow(community, citizenCase);
  const e = await http("POST", `/api/v1/command/cases/${citizenCase}/escalate`, { token: community, body: { note: "本级无法解决", expected_version: rowC.version } });
  result.steps.escalate = e.status;
  const rowB = await viewRow(leader, boxCase);
  const s = await http("POST", `/api/v1/command/cases/${boxCase}/supervise`, { token: leader, body: { note: "请今日办结", deadline_hours: 24, handlers: [], expected_version: rowB.version } });
  result.steps.supervise = s.status;
  if (w.status >= 300 || e.status >= 300 || s.status >= 300) result.notes.push(`setup writes: ${JSON.stringify([w.data, e.data, s.data])}`);
}

async function signIn(page, username) {
  await page.waitForSelector("form input[name=username]", { timeout: 20000 });
  await page.fill("form input[name=username]", username);
  await page.fill("form input[name=password]", PASSWORD);
  await page.click("form button[type=submit]");
}

async function tab(page, name) {
  await page.click(`nav.tabs button[data-tab=${name}]`);
  await page.waitForSelector(`#tab-body[data-tab-body=${name}]`);
}
const count = (page, sel) => page.$$eval(sel, (els) => els.length);
async function settle(page) {
  await page.waitForFunction(() => ![...document.querySelectorAll("#tab-body p.muted")].some((p) => /加载中|Loading/.test(p.textContent)), null, { timeout: 30000 });
  await sleep(500);
}

async function tour(page, size) {
  const seen = {};
  // overview: KPI cards, the map's units, the list
  await page.waitForSelector("[data-kpi=total] .v");
  await page.waitForSelector("[data-unit]", { timeout: 30000 });
  await page.waitForSelector("[data-list=all] li", { timeout: 30000 });
  await settle(page);
  seen.overview = { kpis: await count(page, "[data-kpi]"), units: await count(page, "[data-unit]"), cases: await count(page, "[data-list=all] li"),
    unit_names: await page.$$eval("[data-unit] .title", (els) => els.map((e) => e.textContent).slice(0, 3)) };
  await shot(page, `dash-${size}-overview`);
  await audit(page, `overview (${size})`);
  // the map is switchable: overdue, escalated, satisfaction
  for (const mode of ["escalated", "satisfaction", "open"]) {
    await page.click(`[data-map-mode=${mode}]`);
    await page.waitForSelector(`[data-map-mode=${mode}][aria-selected=true]`);
  }
  seen.overview.map_modes = await count(page, "[data-map-mode]");
  // a case's detail: its timeline in words
  await page.click("[data-list=all] li");
  await page.waitForSelector("[data-case-detail] .timeline li", { timeout: 20000 });
  await sleep(400);
  seen.overview.timeline = await page.$$eval("[data-case-detail] .timeline li .title", (l) => l.map((x) => x.textContent));
  await shot(page, `dash-${size}-case`);
  await audit(page, `case detail (${size})`);
  await page.click(".sheet .panel button.ghost");
  await page.waitForSelector(".sheet", { state: "detached" });
  // drill-down city → district → street → community → grid by the unit list
  for (const code of CHAIN) {
    await page.waitForSelector(`[data-unit="${code}"]`, { timeout: 30000 });
    await page.click(`[data-unit="${code}"]`);
    await page.waitForSelector(`nav.crumbs button:nth-child(${CHAIN.indexOf(code) + 2})`);
  }
  await page.waitForSelector("[data-grid-level]");
  await page.waitForSelector("[data-list=all] li", { timeout: 30000 });
  await settle(page);
  result.steps[`drill_${size}`] = { crumbs: await page.$$eval("nav.crumbs button", (bs) => bs.map((b) => b.textContent)),
    grid_cases: await count(page, "[data-list=all] li") };
  await shot(page, `dash-${size}-grid`);
  await audit(page, `grid level (${size})`);
  await page.click("nav.crumbs button:first-child");
  await page.waitForSelector("[data-unit]", { timeout: 30000 });

  await tab(page, "decision");
  await page.waitForSelector("[data-matrix] td", { timeout: 30000 });
  await settle(page);
  seen.decision = { matrix_cells: await count(page, "[data-matrix] td"), legend: await page.$$eval(".legend li", (l) => l.map((x) => x.textContent)) };
  await shot(page, `dash-${size}-decision`);
  await audit(page, `decision (${size})`);

  await tab(page, "citizen");
  await page.waitForSelector("[data-list=citizen] li", { timeout: 30000 });
  await settle(page);
  seen.citizen = { cases: await count(page, "[data-list=citizen] li"), sources: await page.$$eval("[data-list=citizen] li", (l) => [...new Set(l.map((x) => x.dataset.source))]),
    cards: await page.$$eval("[data-kpi^=source-] .l", (l) => l.map((x) => x.textContent)) };
  // search narrows the list; a category filter; CSV export of what is shown
  await page.fill("input[name=q]", `${result.marker}意见箱`);
  await page.waitForFunction(() => document.querySelectorAll("[data-list=citizen] li").length === 1, null, { timeout: 20000 });
  seen.citizen.search = await page.$eval("[data-list=citizen] li .title", (e) => e.textContent);
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 20000 }), page.click("[data-export=citizen]")]);
  seen.citizen.export = download.suggestedFilename();
  await page.fill("input[name=q]", "");
  await page.waitForFunction(() => document.querySelectorAll("[data-list=citizen] li").length > 1, null, { timeout: 20000 }).catch(() => null);
  await settle(page);
  await shot(page, `dash-${size}-citizen`);
  await audit(page, `citizen (${size})`);

  await tab(page, "enterprise");
  await page.waitForSelector("[data-kpi=demand-filed] .v", { timeout: 30000 });
  await settle(page);
  seen.enterprise = { stages: await page.$$eval("[data-kpi^=demand-] .l", (l) => l.map((x) => x.textContent)), demands: await count(page, "[data-list=demands] li") };
  await shot(page, `dash-${size}-enterprise`);
  await audit(page, `enterprise (${size})`);

  await tab(page, "grassroots");
  await page.waitForSelector("[data-list=grassroots] li", { timeout: 30000 });
  await settle(page);
  seen.grassroots = { cases: await count(page, "[data-list=grassroots] li"), sources: await page.$$eval("[data-list=grassroots] li", (l) => [...new Set(l.map((x) => x.dataset.source))]) };
  await shot(page, `dash-${size}-grassroots`);
  await audit(page, `grassroots (${size})`);

  await tab(page, "supervision");
  await page.waitForSelector("[data-list=supervised] li", { timeout: 30000 });
  await page.waitForSelector("[data-list=projects] li", { timeout: 30000 }).catch(() => null);
  await settle(page);
  seen.supervision = { cases: await count(page, "[data-list=supervised] li"), projects: await page.$$eval("[data-list=projects] li", (l) => l.map((x) => x.innerText.replace(/\s+/g, " ")).slice(0, 3)) };
  await shot(page, `dash-${size}-supervision`);
  await audit(page, `supervision (${size})`);

  await tab(page, "linkage");
  await page.waitForSelector("[data-table=duty] td", { timeout: 30000 });
  await page.waitForSelector("[data-list=whistled] li", { timeout: 30000 });
  await page.waitForSelector("[data-list=escalated] li", { timeout: 30000 });
  await settle(page);
  seen.linkage = { duty_rows: await count(page, "[data-table=duty] tr"), whistled: await count(page, "[data-list=whistled] li"), escalated: await count(page, "[data-list=escalated] li"),
    duty_departments: await page.$$eval("[data-table=duty] tr td:first-child", (l) => l.map((x) => x.textContent)) };
  await shot(page, `dash-${size}-linkage`);
  await audit(page, `linkage (${size})`);

  await tab(page, "ranking");
  await page.waitForSelector("[data-table=rank-units] td", { timeout: 30000 });
  await settle(page);
  seen.ranking = { units: await count(page, "[data-table=rank-units] tr"), departments: await count(page, "[data-table=rank-departments] tr"),
    first: await page.$eval("[data-table=rank-units] tr:nth-child(2)", (r) => r.innerText.replace(/\s+/g, " ")) };
  await shot(page, `dash-${size}-ranking`);
  await audit(page, `ranking (${size})`);
  result.tabs[size] = seen;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const openapi = (await http("GET", "/openapi.json")).data.paths;
  const isDocumented = documented(openapi);
  await setup();
  log("setup done", JSON.stringify(result.steps));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  const newPage = async (viewport, name, mobile) => {
    const ctx = await browser.newContext({ viewport, deviceScaleFactor: mobile ? 2 : 1, isMobile: mobile, hasTouch: mobile,
      locale: "zh-CN", timezoneId: "Asia/Shanghai", acceptDownloads: true });
    ctx.setDefaultTimeout(20000);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => result.page_errors.push(`${name}: ${e.message}`));
    page.on("request", (req) => { if (!isDocumented(req.url())) result.undocumented_requests.push(`${name}: ${req.method()} ${req.url()}`); });
    openPages.push([name, page]);
    return page;
  };
  for (const [size, viewport, mobile] of [["desktop", DESKTOP, false], ["phone", PHONE, true]]) {
    const page = await newPage(viewport, size, mobile);
    await page.goto(`${BASE}/dashboard/`);
    await signIn(page, "demo_leader");
    await page.waitForSelector("nav.tabs button[data-tab]", { timeout: 30000 });
    result.steps[`tabs_${size}`] = await page.$$eval("nav.tabs button[data-tab]", (bs) => bs.map((b) => b.textContent));
    await tour(page, size);
    if (size === "phone") {
      // English on the phone: longer labels must not overflow, nothing undefined
      await page.click(".topbar button.lang");
      await page.waitForFunction(() => document.documentElement.lang === "en");
      for (const name of ["overview", "linkage", "ranking"]) {
        await tab(page, name);
        await settle(page);
        await shot(page, `dash-phone-en-${name}`);
        await audit(page, `${name} (phone, English)`, { codes: false });
      }
      result.steps.english_tabs = await page.$$eval("nav.tabs button[data-tab]", (bs) => bs.map((b) => b.textContent));
      await page.click(".topbar button.lang");
    }
  }
  // the administrator: a clear notice with links to /admin/, no permission errors
  const admin = await newPage(PHONE, "admin", true);
  await admin.goto(`${BASE}/dashboard/`);
  await signIn(admin, "demo_admin");
  await admin.waitForSelector("[data-admin-notice]", { timeout: 20000 });
  result.steps.admin = { links: await admin.$$eval("[data-admin-notice] a", (as) => as.map((a) => a.getAttribute("href"))),
    errors: await count(admin, ".error") };
  await shot(admin, "dash-phone-admin");
  await audit(admin, "admin notice (phone)");
  await browser.close();
}

main().then(() => {
  console.log(JSON.stringify(result));
}, async (e) => {
  for (const [name, page] of openPages) await shot(page, `dash-failed-${name}`).catch(() => null);
  result.error = String(e?.stack || e);
  console.log(JSON.stringify(result));
  console.error(e);
  process.exit(1);
});
