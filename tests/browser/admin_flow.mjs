// The administration page in headless Debian Chromium at phone size: an administrator adds a
// routing rule and tests facts against it, marks a holiday in the calendar and saves it, then
// deletes the rule. Prints one JSON line of results; screenshots in ARTIFACTS (13-… to 17-…).
import { createRequire } from "node:module";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(new URL("../../gateway/web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const BASE = process.env.BASE_URL || "http://127.0.0.1:8000";
const OUT = process.env.ARTIFACTS || "test-artifacts/browser";
const PROFILE = process.env.PROFILE_DIR || "/tmp/yiwang-admin-profile";
const RULE = `browser-rule-${Date.now() % 100000}`;
const CATEGORY = `browser.probe${Date.now() % 1000}`;
const YEAR = new Date().getFullYear() + 2; // offered by the page, kept by no seed
// a Tuesday in March (a weekday, so it cannot be a make-up working day: see step 4)
const DAY = `${YEAR}-03-${String([1, 2, 3, 4, 5, 6, 7].find((d) => new Date(Date.UTC(YEAR, 2, d)).getUTCDay() === 2)).padStart(2, "0")}`;
const result = { rule: RULE, day: DAY, steps: {}, screenshots: [], page_errors: [], api: {} };
const log = (...a) => console.error("[admin]", ...a);

async function http(method, path, token, body) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = crypto.randomUUID();
  const r = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, data: await r.json().catch(() => null) };
}

async function shot(page, name) {
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  result.screenshots.push(path);
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  rmSync(PROFILE, { recursive: true, force: true });
  const token = (await http("POST", "/api/v1/auth/login", null, { username: "demo_admin", password: "yiwang-demo" })).data.access_token;
  const context = await chromium.launchPersistentContext(PROFILE, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    locale: "zh-CN", timezoneId: "Asia/Shanghai",
  });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  page.on("pageerror", (e) => result.page_errors.push(e.message));
  page.on("dialog", (d) => d.accept());
  await page.goto(`${BASE}/admin/`);
  await page.waitForSelector("form input[name=username]");
  await page.fill("form input[name=username]", "demo_admin");
  await page.fill("form input[name=password]", "yiwang-demo");
  await page.click("form button[type=submit]");
  await page.waitForSelector("nav.tabs");

  // 1. a new routing rule
  await page.click("button[data-tab=rules]");
  await page.waitForSelector("ul.rules");
  await page.click("button[data-i18n='rule.new']");
  await page.fill(".rule-form input[name=name]", RULE);
  await page.fill(".rule-form input[name=order]", String(900000 + (Date.now() % 90000)));
  await page.fill(".rule-form input[name=category_prefix]", CATEGORY);
  await page.check(".rule-form input[name=weekday][value='1']");
  await shot(page, "13-admin-rule-form");
  await page.click(".rule-form button[type=submit]");
  await page.waitForSelector(`li[data-rule='${RULE}']`);
  result.steps.rule_listed = true;
  const rules = await http("GET", "/api/v1/command/rules", token);
  const saved = rules.data.items.find((r) => r.name === RULE);
  result.steps.rule_saved = !!saved && saved.when.category_prefix === CATEGORY && saved.when.weekdays.join() === "1";
  await shot(page, "14-admin-rules");

  // 2. test facts against the rules in the page (a Monday, so the weekday condition holds)
  await page.click("button[data-i18n='rule.test']");
  await page.fill(".rule-test input[name=category]", `${CATEGORY}.x`);
  await page.fill(".rule-test input[name=at]", "2026-11-23T10:00");
  await page.click(".rule-test button[type=submit]");
  await page.waitForFunction((name) => document.querySelector(".rule-test .result")?.textContent.includes(name), RULE);
  result.steps.rule_test_matches = true;
  await shot(page, "15-admin-rule-test");
  await page.click(".rule-test button[data-i18n='close']");

  // 3. a holiday in the calendar
  await page.click("button[data-tab=holidays]");
  await page.waitForSelector(`.calendar select[name=year] option[value="${YEAR}"]`, { state: "attached" });
  await page.selectOption(".calendar select[name=year]", String(YEAR));
  await page.waitForSelector(`button.day[data-day='${YEAR}-01-01']`);
  await page.fill(".calendar input[name=holiday_name]", "浏览器测试假日");
  await page.click(`button.day[data-day='${DAY}']`);
  await page.waitForSelector(`button.day.holiday[data-day='${DAY}']`);
  await page.click("button[data-i18n='cal.save']");
  await page.waitForFunction((d) => {
    const el = document.querySelector(`button.day[data-day='${d}']`);
    return el && el.classList.contains("holiday") && /版本|Revision/.test(document.querySelector(".calendar .cal-info")?.textContent || "");
  }, DAY);
  const year = await http("GET", `/api/v1/command/calendar/${YEAR}`, token);
  result.steps.holiday_saved = year.status === 200 && year.data.holidays.some((d) => d.day === DAY && d.name === "浏览器测试假日");
  await page.locator(`li[data-day='${DAY}']`).scrollIntoViewIfNeeded();
  await shot(page, "16-admin-holiday-named");
  await page.locator(`button.day[data-day='${DAY}']`).scrollIntoViewIfNeeded();
  await shot(page, "16-admin-holiday-month");
  // a reload shows what is kept
  await page.reload();
  await page.waitForSelector("nav.tabs");
  await page.click("button[data-tab=holidays]");
  await page.waitForSelector(`.calendar select[name=year] option[value="${YEAR}"]`, { state: "attached" });
  await page.selectOption(".calendar select[name=year]", String(YEAR));
  await page.waitForSelector(`button.day.holiday[data-day='${DAY}']`);
  result.steps.holiday_shown_after_reload = true;

  // 4. a refused save shows the problem's localized message (a weekday cannot be a make-up day)
  const bad = await http("PUT", `/api/v1/command/calendar/${YEAR}`, token, { status: "published", holidays: [], makeup_workdays: [{ day: DAY }] });
  result.api.refusal = { status: bad.status, code: bad.data?.code, detail_zh: bad.data?.detail_zh };

  // 5. categories tab renders; the rule is deleted through the page (confirm accepted)
  await page.click("button[data-tab=categories]");
  await page.waitForSelector("ul.categories li");
  result.steps.categories_listed = true;
  await shot(page, "17-admin-categories");
  await page.click("button[data-tab=rules]");
  await page.waitForSelector(`li[data-rule='${RULE}']`);
  await page.click(`li[data-rule='${RULE}'] button[data-i18n='delete']`);
  await page.waitForSelector(`li[data-rule='${RULE}']`, { state: "detached" });
  const after = await http("GET", "/api/v1/command/rules", token);
  result.steps.rule_deleted = !after.data.items.some((r) => r.name === RULE);
  await context.close();
}

main().then(() => console.log(JSON.stringify(result)), (e) => {
  result.error = String(e?.stack || e);
  console.log(JSON.stringify(result));
  console.error(e);
  process.exit(1);
});
