// Administration: accounts, units, departments, and editors for what the services keep as
// data — routing rules (command), categories and their SLAs (petitions), the working-day
// calendar of holidays and make-up days (command). Errors show the problem's localized message.
import { createApi } from "../common/api/client.js";
import admin from "../common/api/admin.js";
import categoriesApi from "../common/api/categories.js";
import command from "../common/api/command.js";
import grids from "../common/api/grids.js";
import { h, mount, $, toast } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, section } from "../common/shell.js";
import STRINGS from "./strings.js";

const i18n = createI18n(STRINGS);
const t = i18n.t;
const api = createApi("admin", i18n, { admin, categories: categoriesApi, command, grids });
const ROLES = ["admin", "city_staff", "district_staff"];
const ALL_ROLES = ["citizen", "grid_worker", "community_staff", "street_staff", "district_staff", "city_staff",
  "department_handler", "leader", "volunteer", "enterprise_user", "institution_user", "admin"];
const SOURCES = ["citizen", "open311", "patrol", "sensor", "hotline", "suggestion_box", "enterprise", "volunteer_order", "agency"];
// which tabs a role sees (the gateway's POLICY decides what it may do; refusals are shown)
const TABS = {
  accounts: ["admin"],
  rules: ["admin", "city_staff", "district_staff"],
  categories: ["admin", "city_staff"],
  holidays: ["admin", "city_staff", "district_staff"],
  departments: ["admin", "city_staff", "district_staff"],
  units: ["admin", "city_staff", "district_staff"],
};
const state = { tab: "rules", account: null };
const items = (p) => (Array.isArray(p) ? p : p?.items || p?.units || []);
const fail = (x) => toast(x.message, "error");

const bar = topbar(i18n, api, { onLogout: () => location.reload() });
mount($("#bar"), bar);
api.onLogout(() => location.reload());

async function boot() {
  let account = api.account;
  if (account) { try { account = await api.me(); } catch { account = null; } }
  if (!account || !ROLES.includes(account.role)) account = await signIn($("#app"), i18n, api, { roles: ROLES, demo: "demo_admin" });
  state.account = account;
  state.tab = visibleTabs()[0];
  bar.refresh();
  render();
}

const visibleTabs = () => Object.keys(TABS).filter((k) => TABS[k].includes(state.account.role));

function render() {
  const tabs = h("nav", { class: "tabs", role: "tablist" }, visibleTabs().map((k) => h("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === k), "data-i18n": `tab.${k}`, dataset: { tab: k },
    onclick: () => { state.tab = k; render(); },
  })));
  const body = h("div");
  mount($("#app"), tabs, body);
  ({ accounts, categories, rules, holidays, departments, units })[state.tab](body);
  i18n.apply($("#app"));
}
i18n.onChange(() => { if (state.account) render(); });

function table(cols, rows) {
  return h("div", { style: { overflowX: "auto" } }, h("table", { class: "t" }, h("tr", {}, cols.map((c) => h("th", { text: c }))),
    rows.map((r) => h("tr", {}, r.map((v) => h("td", { text: v ?? "" }))))));
}
const field = (label, el) => h("label", {}, h("span", { "data-i18n": label }), el);
const input = (name, value, props = {}) => h("input", { name, value: value ?? "", ...props });
const select = (name, options, value) => h("select", { name }, options.map(([v, l]) => h("option", { value: v, text: l, selected: String(v) === String(value ?? "") })));
const check = (name, on, label) => h("label", {}, h("input", { type: "checkbox", name, checked: !!on }), h("span", { "data-i18n": label }));
const sheet = (...children) => {
  const s = h("div", { class: "sheet", onclick: (e) => { if (e.target === s) s.remove(); } }, h("div", { class: "panel stack" }, ...children));
  document.body.append(s);
  i18n.apply(s);
  return s;
};

// -- accounts ---------------------------------------------------------------------------------
function accounts(body) {
  const list = h("section");
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
    try { await api.admin.createAccount(b); toast(t("account.created")); render(); } catch (x) { fail(x); }
  } }, h("h3", { "data-i18n": "account.new" }),
  ...[["username", "account.username"], ["password", "account.password"], ["display_name", "account.name"], ["role", "account.role"],
    ["jurisdiction_code", "account.code"], ["department", "account.department"]].map(([k, l]) => field(l, f[k])),
  h("button", { class: "primary", type: "submit", "data-i18n": "save" })));
  body.append(list);
  section(list, i18n, async () => {
    const p = await api.admin.accounts({ page_size: 200 });
    return table(["username", "name", "role", "unit", "department", "active"],
      items(p).map((a) => [a.username || a.phone, a.display_name, a.role, a.jurisdiction_code, a.department, a.active ? "✓" : "✗"]));
  });
}

// -- routing rules ----------------------------------------------------------------------------
function ruleText(r) {
  const w = r.when || {};
  const parts = [];
  if (w.category_prefix) parts.push(`${t("rule.category_prefix")}: ${w.category_prefix}`);
  if (w.jurisdiction_prefix) parts.push(`${t("rule.jurisdiction_prefix")}: ${w.jurisdiction_prefix}`);
  if (w.sources?.length) parts.push(`${t("rule.sources")}: ${w.sources.join(",")}`);
  if (w.time_from || w.time_to) parts.push(`${w.time_from || "00:00"}–${w.time_to || "24:00"}`);
  if (w.weekdays?.length) parts.push(`${t("rule.weekdays")}: ${w.weekdays.join(",")}`);
  if (w.area_wkt) parts.push(t("rule.area"));
  for (const [k, v] of Object.entries(w.attributes || {})) parts.push(`${k}=${v}`);
  return parts.join(" · ") || t("rule.always");
}

function rules(body) {
  const list = h("section");
  const load = () => section(list, i18n, async () => {
    const [rs, ds] = await Promise.all([api.command.rules(), api.command.departments().catch(() => ({ items: [] }))]);
    const depts = items(ds);
    const sorted = items(rs).sort((a, b) => a.order - b.order);
    return h("div", {},
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", "data-i18n": "rule.new", onclick: () => ruleEditor(null, depts, sorted, load) }),
        h("button", { type: "button", "data-i18n": "rule.test", onclick: () => ruleTester() })),
      h("ul", { class: "list rules" }, sorted.map((r) => h("li", { dataset: { rule: r.name } },
        h("div", { class: "title", text: `${r.order}. ${r.name}` }),
        h("div", { class: "meta", text: `${t("rule.target")}: ${t(`target.${r.target?.kind}`)} ${r.target?.id} · ${ruleText(r)}` }),
        h("div", { class: "actions" },
          h("button", { type: "button", "data-i18n": "edit", onclick: () => ruleEditor(r, depts, sorted, load) }),
          h("button", { type: "button", class: "ghost", "data-i18n": "delete", onclick: async () => {
            if (!confirm(t("rule.confirm_delete", { name: r.name }))) return;
            try { await api.command.deleteRule(r.name); toast(t("deleted")); load(); } catch (x) { fail(x); }
          } }))))),
      sorted.length ? null : h("p", { class: "muted", "data-i18n": "empty" }));
  }).then(() => i18n.apply(list));
  body.append(list);
  load();
}

function ruleEditor(rule, depts, all, done) {
  const w = rule?.when || {};
  const nextOrder = (all.reduce((m, r) => Math.max(m, r.order), 0) || 0) + 10;
  const f = {
    name: input("name", rule?.name, { required: true, maxlength: 100, readonly: rule ? "readonly" : null }),
    order: input("order", rule?.order ?? nextOrder, { type: "number", min: 0, max: 1000000, required: true }),
    kind: select("target_kind", [["department", t("target.department")], ["grid_worker", t("target.grid_worker")]], rule?.target?.kind || "department"),
    dept: select("target_department", depts.map((d) => [d.code, `${i18n.pick(d.name_zh, d.name_en)} (${d.code})`]), rule?.target?.id),
    worker: input("target_worker", rule?.target?.kind === "grid_worker" ? rule.target.id : "", { maxlength: 64 }),
    category_prefix: input("category_prefix", w.category_prefix, { maxlength: 64, placeholder: "appearance" }),
    jurisdiction_prefix: input("jurisdiction_prefix", w.jurisdiction_prefix, { inputmode: "numeric", pattern: "[0-9]{1,18}", placeholder: "329901" }),
    time_from: input("time_from", w.time_from, { type: "time" }),
    time_to: input("time_to", w.time_to, { type: "time" }),
    area_wkt: h("textarea", { name: "area_wkt", value: w.area_wkt || "", placeholder: "POLYGON((…))" }),
    attributes: input("attributes", Object.entries(w.attributes || {}).map(([k, v]) => `${k}=${v}`).join(", "), { placeholder: "key=value, …" }),
  };
  const sources = h("div", { class: "checks" }, SOURCES.map((s) => h("label", {}, h("input", { type: "checkbox", name: "source", value: s, checked: (w.sources || []).includes(s) }), h("span", { text: s }))));
  const weekdays = h("div", { class: "checks" }, [1, 2, 3, 4, 5, 6, 7].map((d) => h("label", {}, h("input", { type: "checkbox", name: "weekday", value: d, checked: (w.weekdays || []).includes(d) }), h("span", { "data-i18n": `wd.${d}` }))));
  const syncKind = () => { f.dept.parentElement.hidden = f.kind.value !== "department"; f.worker.parentElement.hidden = f.kind.value === "department"; };
  f.kind.addEventListener("change", syncKind);
  const err = h("p", { class: "error", role: "alert" });
  let s;
  const form = h("form", { class: "stack rule-form", onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = "";
    const when = {};
    for (const k of ["category_prefix", "jurisdiction_prefix", "time_from", "time_to", "area_wkt"]) if (f[k].value.trim()) when[k] = f[k].value.trim();
    const srcs = [...sources.querySelectorAll("input:checked")].map((i) => i.value);
    if (srcs.length) when.sources = srcs;
    const wds = [...weekdays.querySelectorAll("input:checked")].map((i) => Number(i.value));
    if (wds.length) when.weekdays = wds;
    const attrs = {};
    for (const pair of f.attributes.value.split(",").map((x) => x.trim()).filter(Boolean)) {
      const [k, ...v] = pair.split("=");
      attrs[k.trim()] = v.join("=").trim();
    }
    if (Object.keys(attrs).length) when.attributes = attrs;
    const name = f.name.value.trim();
    const body = { order: Number(f.order.value), target: { kind: f.kind.value, id: f.kind.value === "department" ? f.dept.value : f.worker.value.trim() }, when };
    try { await api.command.putRule(name, body); toast(t("saved")); s.remove(); done(); } catch (x) { err.textContent = x.message; }
  } },
  h("h3", { "data-i18n": rule ? "rule.edit" : "rule.new" }),
  field("rule.name", f.name), field("rule.order", f.order), field("rule.target_kind", f.kind),
  field("rule.department", f.dept), field("rule.worker", f.worker),
  h("h4", { "data-i18n": "rule.when" }),
  field("rule.category_prefix", f.category_prefix), field("rule.jurisdiction_prefix", f.jurisdiction_prefix),
  h("div", { class: "row" }, h("div", { class: "grow" }, field("rule.time_from", f.time_from)), h("div", { class: "grow" }, field("rule.time_to", f.time_to))),
  h("div", {}, h("span", { class: "muted small", "data-i18n": "rule.sources" }), sources),
  h("div", {}, h("span", { class: "muted small", "data-i18n": "rule.weekdays" }), weekdays),
  field("rule.attributes", f.attributes), field("rule.area", f.area_wkt), err,
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", "data-i18n": "save" }),
    h("button", { type: "button", "data-i18n": "cancel", onclick: () => s.remove() })));
  s = sheet(form);
  syncKind();
}

function ruleTester() {
  const now = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 16); // Asia/Shanghai wall time
  const f = {
    category: input("category", "appearance.litter", { required: true, maxlength: 64 }),
    jurisdiction_code: input("jurisdiction_code", "329901001001001", { required: true, inputmode: "numeric", pattern: "[0-9]{4,18}" }),
    source: select("source", SOURCES.map((x) => [x, x]), "citizen"),
    at: input("at", now, { type: "datetime-local", required: true }),
  };
  const out = h("div", { class: "result", role: "status" });
  const err = h("p", { class: "error", role: "alert" });
  let s;
  s = sheet(h("form", { class: "stack rule-test", onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = ""; out.textContent = "";
    try {
      const r = await api.command.testRules({ category: f.category.value.trim(), jurisdiction_code: f.jurisdiction_code.value.trim(),
        source: f.source.value, at: `${f.at.value}:00+08:00` });
      out.textContent = r.matched ? t("rule.matched", { rule: r.rule, target: `${t(`target.${r.target.kind}`)} ${r.target.id}` }) : t("rule.no_match");
    } catch (x) { err.textContent = x.message; }
  } }, h("h3", { "data-i18n": "rule.test" }), field("rule.test_category", f.category), field("rule.test_code", f.jurisdiction_code),
  field("rule.test_source", f.source), field("rule.test_at", f.at), err, out,
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", "data-i18n": "rule.run_test" }),
    h("button", { type: "button", "data-i18n": "close", onclick: () => s.remove() }))));
}

// -- categories and their SLAs ----------------------------------------------------------------
function categories(body) {
  const list = h("section");
  const load = () => section(list, i18n, async () => {
    const [cs, ds] = await Promise.all([api.categories.list({ include_inactive: true }), api.command.departments().catch(() => ({ items: [] }))]);
    const slas = cs.sla_classes || [];
    const slaName = (code) => { const s = slas.find((x) => x.code === code); return s ? i18n.pick(s.name_zh, s.name_en) : code; };
    return h("div", {},
      h("div", { class: "actions" }, h("button", { type: "button", class: "primary", "data-i18n": "cat.new", onclick: () => categoryEditor(null, slas, items(ds), load) })),
      h("ul", { class: "list categories" }, items(cs).map((c) => h("li", { dataset: { category: c.code } },
        h("div", { class: "title", text: `${i18n.pick(c.name_zh, c.name_en)} · ${c.code}` }),
        h("div", { class: "meta", text: `${t("cat.sla")}: ${slaName(c.sla_class)} · ${t("cat.department")}: ${c.department} · ${t(`handling.${c.handling_level}`)}${c.active ? "" : ` · ${t("cat.inactive")}`}` }),
        h("div", { class: "actions" },
          h("button", { type: "button", "data-i18n": "edit", onclick: () => categoryEditor(c, slas, items(ds), load) }),
          c.active ? h("button", { type: "button", class: "ghost", "data-i18n": "cat.deactivate", onclick: async () => {
            if (!confirm(t("cat.confirm_deactivate", { name: i18n.pick(c.name_zh, c.name_en) }))) return;
            try { await api.categories.deactivate(c.code); toast(t("saved")); load(); } catch (x) { fail(x); }
          } }) : null)))));
  }).then(() => i18n.apply(list));
  body.append(list);
  load();
}

function categoryEditor(cat, slas, depts, done) {
  const f = {
    code: input("code", cat?.code, { required: true, pattern: "[a-z0-9_.]+", maxlength: 130, readonly: cat ? "readonly" : null, placeholder: "appearance.litter" }),
    name_zh: input("name_zh", cat?.name_zh, { required: true, maxlength: 50 }),
    name_en: input("name_en", cat?.name_en, { required: true, maxlength: 80 }),
    department: depts.length
      ? select("department", depts.map((d) => [d.code, `${i18n.pick(d.name_zh, d.name_en)} (${d.code})`]), cat?.department)
      : input("department", cat?.department, { required: true }),
    sla_class: select("sla_class", slas.map((s) => [s.code, `${i18n.pick(s.name_zh, s.name_en)} (${s.code})`]), cat?.sla_class || "standard_3d"),
    handling_level: select("handling_level", [["community", t("handling.community")], ["street", t("handling.street")]], cat?.handling_level || "street"),
  };
  const flags = { public: check("public", cat ? cat.public : true, "cat.public"), citizen_selectable: check("citizen_selectable", cat ? cat.citizen_selectable : true, "cat.citizen_selectable") };
  const err = h("p", { class: "error", role: "alert" });
  let s;
  s = sheet(h("form", { class: "stack category-form", onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = "";
    const body = { ...(cat || {}) };
    delete body.group;
    for (const k of ["name_zh", "name_en", "department", "sla_class", "handling_level"]) body[k] = f[k].value.trim();
    for (const k of Object.keys(flags)) body[k] = flags[k].querySelector("input").checked;
    const code = f.code.value.trim();
    body.code = code;
    try { await api.categories.put(code, body); toast(t("saved")); s.remove(); done(); } catch (x) { err.textContent = x.message; }
  } }, h("h3", { "data-i18n": cat ? "cat.edit" : "cat.new" }),
  field("cat.code", f.code), field("cat.name_zh", f.name_zh), field("cat.name_en", f.name_en), field("cat.department", f.department),
  field("cat.sla", f.sla_class), field("cat.handling", f.handling_level), h("div", { class: "checks" }, flags.public, flags.citizen_selectable), err,
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", "data-i18n": "save" }),
    h("button", { type: "button", "data-i18n": "cancel", onclick: () => s.remove() }))));
}

// -- the holiday calendar -----------------------------------------------------------------------
const iso = (y, m, d) => `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
const weekdayOf = (y, m, d) => (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // 0 = Monday

function holidays(body) {
  const cal = { year: new Date().getFullYear(), data: null, days: new Map(), dirty: false };
  const yearSel = h("select", { name: "year" });
  const status = select("status", [["published", t("cal.published")], ["provisional", t("cal.provisional")]], "published");
  const source = input("source", "", { maxlength: 200 });
  const nameIn = input("holiday_name", t("cal.default_name"), { maxlength: 40 });
  const info = h("p", { class: "muted small cal-info" });
  const err = h("p", { class: "error", role: "alert" });
  const grid = h("div", { class: "months" });
  const named = h("ul", { class: "list named-days" });
  const save = h("button", { type: "button", class: "primary", "data-i18n": "cal.save", onclick: () => saveYear() });

  async function loadYears() {
    const list = await api.command.calendars();
    const years = new Set(items(list).map((y) => y.year));
    const now = new Date().getFullYear();
    for (const y of [now - 1, now, now + 1, now + 2]) years.add(y);
    mount(yearSel, [...years].sort().map((y) => {
      const kept = items(list).find((x) => x.year === y);
      return h("option", { value: y, text: `${y}${kept ? ` · ${t(`cal.${kept.status}`)}` : ` · ${t("cal.fallback_weekdays")}`}`, selected: y === cal.year });
    }));
  }

  async function loadYear() {
    err.textContent = "";
    const y = await api.command.calendar(cal.year);
    cal.data = y;
    cal.days = new Map();
    for (const d of y.holidays) cal.days.set(d.day, { kind: "holiday", name: d.name });
    for (const d of y.makeup_workdays) cal.days.set(d.day, { kind: "makeup", name: d.name });
    status.value = y.status === "fallback_weekdays" ? "provisional" : y.status;
    source.value = y.source || "";
    info.textContent = y.status === "fallback_weekdays" ? t("cal.no_data") : t("cal.revision", { rev: y.revision, by: y.updated_by || "—" });
    cal.dirty = false;
    draw();
  }

  function toggle(day, weekend) {
    const cur = cal.days.get(day);
    if (!cur) cal.days.set(day, { kind: "holiday", name: nameIn.value.trim() || t("cal.default_name") });
    else if (cur.kind === "holiday" && weekend) cal.days.set(day, { kind: "makeup", name: t("cal.makeup_name") });
    else cal.days.delete(day);
    cal.dirty = true;
    draw();
  }

  function draw() {
    const y = cal.year;
    mount(grid, Array.from({ length: 12 }, (_, i) => i + 1).map((m) => {
      const n = new Date(Date.UTC(y, m, 0)).getUTCDate();
      const lead = weekdayOf(y, m, 1);
      return h("div", { class: "month" }, h("h4", { text: t("cal.month", { y, m }) }),
        h("div", { class: "days" }, [1, 2, 3, 4, 5, 6, 7].map((d) => h("span", { class: "wd", "data-i18n": `wd.${d}` })),
          Array.from({ length: lead }, () => h("span")),
          Array.from({ length: n }, (_, k) => {
            const d = k + 1; const day = iso(y, m, d); const weekend = weekdayOf(y, m, d) >= 5;
            const mark = cal.days.get(day);
            const cls = ["day", weekend ? "weekend" : "", mark?.kind || ""].filter(Boolean).join(" ");
            return h("button", { type: "button", class: cls, text: d, title: mark ? `${day} ${mark.name}` : day, dataset: { day },
              "aria-pressed": String(!!mark), onclick: () => toggle(day, weekend) });
          })));
    }));
    const marked = [...cal.days.entries()].sort(([a], [b]) => a.localeCompare(b));
    mount(named, marked.map(([day, m]) => h("li", { dataset: { day } }, h("div", { class: "row" },
      h("span", { class: `chip ${m.kind === "holiday" ? "bad" : ""}`, "data-i18n": `cal.${m.kind}` }),
      h("span", { text: day }),
      h("span", { class: "grow" }, h("input", { name: `name-${day}`, value: m.name, maxlength: 40, "aria-label": day,
        oninput: (e) => { m.name = e.target.value; cal.dirty = true; } })),
      h("button", { type: "button", class: "ghost", text: "✕", "aria-label": t("delete"), onclick: () => { cal.days.delete(day); cal.dirty = true; draw(); } })))));
    i18n.apply(grid); i18n.apply(named);
  }

  async function saveYear() {
    err.textContent = "";
    const entries = [...cal.days.entries()].sort(([a], [b]) => a.localeCompare(b));
    const body = {
      status: status.value, source: source.value.trim(),
      holidays: entries.filter(([, m]) => m.kind === "holiday").map(([day, m]) => ({ day, name: m.name.trim() })),
      makeup_workdays: entries.filter(([, m]) => m.kind === "makeup").map(([day, m]) => ({ day, name: m.name.trim() })),
      expected_revision: cal.data?.revision ?? 0,
    };
    try {
      await api.command.putCalendar(cal.year, body);
      toast(t("saved"));
      await loadYears(); await loadYear();
    } catch (x) { err.textContent = x.message; fail(x); }
  }

  yearSel.addEventListener("change", async () => {
    if (cal.dirty && !confirm(t("cal.discard"))) { yearSel.value = cal.year; return; }
    cal.year = Number(yearSel.value);
    try { await loadYear(); } catch (x) { err.textContent = x.message; }
  });
  const canEdit = ["admin", "city_staff"].includes(state.account.role);
  body.append(h("section", { class: "card stack calendar" },
    h("div", { class: "row" }, h("div", { class: "grow" }, field("cal.year", yearSel)), h("div", { class: "grow" }, field("cal.status", status))),
    field("cal.source", source), field("cal.holiday_name", nameIn),
    h("p", { class: "muted small", "data-i18n": "cal.hint" }),
    h("div", { class: "legend" }, ...["holiday", "makeup", "weekend"].map((k) => h("span", {}, h("span", { class: `sw ${k}` }), h("span", { "data-i18n": `cal.${k}` })))),
    info, err, canEdit ? save : h("p", { class: "muted small", "data-i18n": "cal.read_only" })),
  grid, h("h3", { "data-i18n": "cal.named" }), named);
  (async () => {
    try { await loadYears(); await loadYear(); } catch (x) { err.textContent = x.message; }
  })();
}

// -- departments, units ----------------------------------------------------------------------
function departments(body) {
  const list = h("section");
  const code = h("input", { name: "code", pattern: "[a-z][a-z0-9_]{1,63}", required: true });
  const zh = h("input", { name: "name_zh", required: true }); const en = h("input", { name: "name_en" });
  body.append(h("form", { class: "card stack", onsubmit: async (e) => {
    e.preventDefault();
    try { await api.command.putDepartment(code.value, { code: code.value, name_zh: zh.value.trim(), name_en: en.value.trim(), active: true }); toast(t("saved")); render(); } catch (x) { fail(x); }
  } }, field("dept.code", code), field("dept.zh", zh), field("dept.en", en), h("button", { class: "primary", type: "submit", "data-i18n": "save" })));
  body.append(list);
  section(list, i18n, async () => table(["code", "名称", "name", "active"], items(await api.command.departments()).map((d) => [d.code, d.name_zh, d.name_en, d.active ? "✓" : "✗"])));
}

function units(body) {
  const root = state.account.jurisdiction_code || "3299";
  const chain = [root];
  const list = h("section");
  const q = h("input", { name: "q", "data-i18n-placeholder": "unit.search" });
  body.append(h("form", { class: "row card", onsubmit: (e) => {
    e.preventDefault();
    section(list, i18n, async () => table(["code", "name", "level"], items(await api.grids.searchUnits({ q: q.value.trim() })).map((u) => [u.code, u.name, u.level])));
  } }, h("span", { class: "grow" }, q), h("button", { type: "submit", text: "🔍" })));
  body.append(list);
  const load = () => section(list, i18n, async () => {
    const code = chain[chain.length - 1];
    const kids = items(await api.grids.children(code));
    return h("div", {}, h("div", { class: "crumbs" }, chain.map((c, i) => h("button", { type: "button", text: c, onclick: () => { chain.length = i + 1; load(); } }))),
      h("ul", { class: "list" }, kids.map((u) => h("li", { class: "clickable", onclick: () => { chain.push(u.code); load(); } },
        h("div", { class: "title", text: u.name }), h("div", { class: "meta", text: `${u.code} · ${t(`level.${u.level}`)}${u.retired ? " · retired" : ""}` })))));
  });
  load();
}


boot();
