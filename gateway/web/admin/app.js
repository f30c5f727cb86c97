// Administration: accounts, units, and — where the gateway offers them — categories and
// their SLAs, routing rules, the holiday calendar and departments. Tabs whose API is absent
// are not shown.
import { createApi, firstOf, fill } from "../common/api.js";
import { h, mount, $, toast } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, section } from "../common/shell.js";
import STRINGS from "./strings.js";

const i18n = createI18n(STRINGS);
const t = i18n.t;
const api = createApi("admin", i18n);
const ROLES = ["admin", "city_staff", "district_staff"];
const ALL_ROLES = ["citizen", "grid_worker", "community_staff", "street_staff", "district_staff", "city_staff",
  "department_handler", "leader", "volunteer", "enterprise_user", "institution_user", "admin"];
const CANDIDATES = {
  accounts: [["GET", "/api/v1/admin/accounts"]],
  accountCreate: [["POST", "/api/v1/admin/accounts"]],
  categories: [["GET", "/api/v1/admin/categories"], ["GET", "/api/v1/categories"], ["GET", "/api/v1/cases/categories"]],
  rules: [["GET", "/api/v1/command/rules"], ["GET", "/api/v1/admin/rules"], ["GET", "/api/v1/command/routing-rules"]],
  holidays: [["GET", "/api/v1/admin/holidays"], ["GET", "/api/v1/holidays"], ["GET", "/api/v1/cases/holidays"], ["GET", "/api/v1/calendar/holidays"]],
  departments: [["GET", "/api/v1/command/departments"], ["GET", "/api/v1/admin/departments"]],
  departmentPut: [["PUT", "/api/v1/command/departments/{code}"], ["PUT", "/api/v1/admin/departments/{code}"]],
  units: [["GET", "/api/v1/grids/units/{code}/children"]],
  search: [["GET", "/api/v1/grids/units"]],
};
const EP = {};
const TAB_API = { accounts: "accounts", categories: "categories", rules: "rules", holidays: "holidays", departments: "departments", units: "units" };
const state = { tab: "accounts", account: null };
const items = (p) => (Array.isArray(p) ? p : p?.items || p?.units || p?.categories || p?.days || []);

const bar = topbar(i18n, api, { onLogout: () => location.reload() });
mount($("#bar"), bar);
api.onLogout(() => location.reload());

async function boot() {
  let account = api.account;
  if (account) { try { account = await api.me(); } catch { account = null; } }
  if (!account || !ROLES.includes(account.role)) account = await signIn($("#app"), i18n, api, { roles: ROLES, demo: "demo_admin" });
  state.account = account;
  await Promise.all(Object.entries(CANDIDATES).map(async ([k, list]) => {
    for (const [m, p] of list) if (await firstOf(m, p)) { EP[k] = p; return; }
  }));
  state.tab = Object.keys(TAB_API).find((k) => EP[TAB_API[k]]) || "accounts";
  bar.refresh();
  render();
}

function render() {
  const tabs = h("nav", { class: "tabs", role: "tablist" }, Object.keys(TAB_API).filter((k) => EP[TAB_API[k]]).map((k) => h("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === k), "data-i18n": `tab.${k}`, dataset: { tab: k },
    onclick: () => { state.tab = k; render(); },
  })));
  const body = h("div");
  mount($("#app"), tabs, body);
  if (EP[TAB_API[state.tab]]) ({ accounts, categories, rules, holidays, departments, units })[state.tab](body);
  i18n.apply($("#app"));
}
i18n.onChange(() => render());

function table(cols, rows) {
  return h("div", { style: { overflowX: "auto" } }, h("table", { class: "t" }, h("tr", {}, cols.map((c) => h("th", { text: c }))),
    rows.map((r) => h("tr", {}, r.map((v) => h("td", { text: v ?? "" }))))));
}
const show = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

function accounts(body) {
  const list = h("section");
  if (EP.accountCreate) {
    const f = {
      username: h("input", { name: "username", pattern: "[a-z0-9_.\\-]{3,64}", required: true }),
      password: h("input", { name: "password", type: "password", minlength: 10, required: true, autocomplete: "new-password" }),
      display_name: h("input", { name: "display_name", required: true, maxlength: 64 }),
      role: h("select", { name: "role" }, ALL_ROLES.map((r) => h("option", { value: r, text: r }))),
      jurisdiction_code: h("input", { name: "jurisdiction_code", inputmode: "numeric", pattern: "[0-9]*" }),
      department: h("input", { name: "department", pattern: "[a-z0-9_.\\-]*" }),
    };
    body.append(h("form", { class: "card stack", onsubmit: async (e) => {
      e.preventDefault();
      const b = Object.fromEntries(Object.entries(f).map(([k, el]) => [k, el.value.trim()]));
      if (!b.department) delete b.department;
      try { await api.post(EP.accountCreate, b); toast(t("account.created")); render(); } catch (x) { toast(x.message, "error"); }
    } }, h("h3", { "data-i18n": "account.new" }),
    ...[["username", "account.username"], ["password", "account.password"], ["display_name", "account.name"], ["role", "account.role"],
      ["jurisdiction_code", "account.code"], ["department", "account.department"]].map(([k, l]) => h("label", {}, h("span", { "data-i18n": l }), f[k])),
    h("button", { class: "primary", type: "submit", "data-i18n": "save" })));
  }
  body.append(list);
  section(list, i18n, async () => {
    const p = await api.get(EP.accounts, { page_size: 200 });
    return table(["username", "name", "role", "unit", "department", "active"],
      items(p).map((a) => [a.username || a.phone, a.display_name, a.role, a.jurisdiction_code, a.department, a.active ? "✓" : "✗"]));
  });
}

function categories(body) {
  section(body, i18n, async () => {
    const list = items(await api.get(EP.categories));
    return table(["code", "名称", "name", "department", "SLA"], list.map((c) => [c.code, c.name_zh, c.name_en, c.department, show(c.sla_class || c.sla)]));
  });
}

function rules(body) {
  section(body, i18n, async () => {
    const list = items(await api.get(EP.rules));
    return table([t("rule.order"), t("rule.name"), t("rule.target"), t("rule.when")], list.map((r) => [r.order, r.name, `${r.target?.kind}:${r.target?.id}`, show(r.when)]));
  });
}

function holidays(body) {
  section(body, i18n, async () => {
    const list = items(await api.get(EP.holidays));
    return table(["day", "kind", "name"], list.map((d) => [d.day || d.date, d.kind || (d.workday ? "workday" : "holiday"), d.name || ""]));
  });
}

function departments(body) {
  const list = h("section");
  if (EP.departmentPut) {
    const code = h("input", { name: "code", pattern: "[a-z][a-z0-9_]{1,63}", required: true });
    const zh = h("input", { name: "name_zh", required: true }); const en = h("input", { name: "name_en" });
    body.append(h("form", { class: "card stack", onsubmit: async (e) => {
      e.preventDefault();
      try { await api.put(fill(EP.departmentPut, { code: code.value }), { code: code.value, name_zh: zh.value.trim(), name_en: en.value.trim(), active: true }); toast(t("saved")); render(); } catch (x) { toast(x.message, "error"); }
    } }, h("label", {}, h("span", { "data-i18n": "dept.code" }), code), h("label", {}, h("span", { "data-i18n": "dept.zh" }), zh),
    h("label", {}, h("span", { "data-i18n": "dept.en" }), en), h("button", { class: "primary", type: "submit", "data-i18n": "save" })));
  }
  body.append(list);
  section(list, i18n, async () => table(["code", "名称", "name", "active"], items(await api.get(EP.departments)).map((d) => [d.code, d.name_zh, d.name_en, d.active ? "✓" : "✗"])));
}

function units(body) {
  const root = state.account.jurisdiction_code || "3299";
  const chain = [root];
  const list = h("section");
  const q = h("input", { name: "q", "data-i18n-placeholder": "unit.search" });
  if (EP.search) body.append(h("form", { class: "row card", onsubmit: (e) => {
    e.preventDefault();
    section(list, i18n, async () => table(["code", "name", "level"], items(await api.get(EP.search, { q: q.value.trim(), query: q.value.trim() })).map((u) => [u.code, u.name, u.level])));
  } }, h("span", { class: "grow" }, q), h("button", { type: "submit", text: "🔍" })));
  body.append(list);
  const load = () => section(list, i18n, async () => {
    const code = chain[chain.length - 1];
    const kids = items(await api.get(fill(EP.units, { code })));
    return h("div", {}, h("div", { class: "crumbs" }, chain.map((c, i) => h("button", { type: "button", text: c, onclick: () => { chain.length = i + 1; load(); } }))),
      h("ul", { class: "list" }, kids.map((u) => h("li", { class: "clickable", onclick: () => { chain.push(u.code); load(); } },
        h("div", { class: "title", text: u.name }), h("div", { class: "meta", text: `${u.code} · ${t(`level.${u.level}`)}${u.retired ? " · retired" : ""}` })))));
  });
  load();
}

boot();
