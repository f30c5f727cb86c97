// Leaders' mobile command dashboard (兴隆决策指挥, seed 004): the map coloured from true
// counts per unit (drill-down city → grid), KPIs and trends, the six functions (决策分析,
// 群众诉求, 企业诉求, 基层上报, 重点督办, 联动指挥), league tables per unit and department,
// alerts and case lists scoped to the viewer with filters, search, cursor paging and CSV
// export; case detail, one-key supervision, dispatch. Names everywhere, never codes.
import { createApi } from "../common/api/client.js";
import cases from "../common/api/cases.js";
import categoriesApi from "../common/api/categories.js";
import command from "../common/api/command.js";
import enterpriseApi from "../common/api/enterprise.js";
import grids from "../common/api/grids.js";
import liveApi from "../common/api/live.js";
import { h, mount, $, fmtTime, pct, toast } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, section, statusChip } from "../common/shell.js";
import { live } from "../common/live.js";
import { loadECharts, keyedByCode } from "../common/map.js";
import STRINGS from "./strings.js";

const i18n = createI18n(STRINGS);
const t = i18n.t;
const api = createApi("dashboard", i18n, { cases, categories: categoriesApi, command, enterprise: enterpriseApi, grids, live: liveApi });
const ROLES = ["leader", "city_staff", "district_staff", "street_staff", "community_staff", "admin"];
const LEVEL_BY_LEN = { 4: "city", 6: "district", 9: "street", 12: "community", 15: "grid" };
const CHILD_LEVEL = { city: "district", district: "street", street: "community", community: "grid" };
const TABS = ["overview", "decision", "citizen", "enterprise", "grassroots", "supervision", "linkage", "ranking"];
// seed 004's channels: citizens' (随手拍, 12345 hotline, Open311, suggestion box, 微代办) and
// the grassroots' own (grid patrol findings, sensor alerts, volunteers' escalations)
const CITIZEN_SOURCES = ["citizen", "hotline", "open311", "suggestion_box", "agency"];
const GRASSROOTS_SOURCES = ["patrol", "sensor", "volunteer_order"];
const ALL_SOURCES = [...CITIZEN_SOURCES, ...GRASSROOTS_SOURCES, "enterprise"];
const STATUSES = ["submitted", "accepted", "dispatched", "in_progress", "handled", "verified", "closed", "evaluated", "rejected"];
const DEMAND_STAGES = ["filed", "assigned", "in_progress", "answered", "closed"];
const MAP_MODES = ["open", "overdue", "escalated", "satisfaction"];
const PAGE = 20;

const state = { code: "", chain: [], tab: "overview", names: {}, cats: {}, depts: {}, stop: null, charts: [], refreshers: [] };

// ---------- names, never codes
const levelOf = (code) => LEVEL_BY_LEN[code.length] || "city";
const items = (page) => (Array.isArray(page) ? page : page?.items || []);
const dayStr = (d) => d.toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
function range(days) {
  return { day_from: dayStr(new Date(Date.now() - (days - 1) * 86400000)), day_to: dayStr(new Date()) };
}
function monthRange(ym) {
  const [y, m] = ym.split("-").map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const to = `${ym}-${String(last).padStart(2, "0")}`;
  const today = dayStr(new Date());
  return { day_from: `${ym}-01`, day_to: to > today ? today : to };
}
/** a dictionary label, or the fallback key's label: a code is never shown */
function label(key, fallback) { const s = t(key); return s === key ? t(fallback) : s; }
function unitName(code) {
  if (!code) return t("scope.all");
  return state.names[code] || `${t(`level.${levelOf(code)}`)}`;
}
const catName = (code) => { const c = state.cats[code]; return c ? i18n.pick(c.name_zh, c.name_en) : label(`cat.${code}`, "cat.other"); };
const deptName = (code) => { const d = state.depts[code]; return d ? i18n.pick(d.name_zh, d.name_en) : label(`dept.${code}`, "dept.other"); };
const sourceName = (s) => label(`source.${s}`, "source.other");
const statusName = (s) => label(`status.${s}`, "status.other");
function caseTitle(c) { return c.title || c.description || catName(c.category); }
const num = (x) => (x === null || x === undefined || Number.isNaN(x) ? "—" : String(x));

async function ensureNames(codes) {
  const missing = [...new Set(codes.filter((c) => c && !state.names[c]))].slice(0, 40);
  await Promise.all(missing.map(async (c) => {
    try { state.names[c] = (await api.grids.unit(c)).name; } catch { /* the level's label */ }
  }));
}
async function loadCatalogues() {
  const [cats, depts] = await Promise.all([
    api.categories.list().catch(() => null), api.command.departments().catch(() => null)]);
  for (const c of items(cats)) state.cats[c.code] = c;
  for (const d of items(depts)) state.depts[d.code] = d;
}

function disposeCharts() {
  for (const c of state.charts) c.dispose();
  state.charts = [];
}
async function chart(el, option) {
  const echarts = await loadECharts();
  const c = echarts.init(el, null, { renderer: "canvas" });
  c.setOption(option);
  state.charts.push(c);
  return c;
}
window.addEventListener("resize", () => state.charts.forEach((c) => c.resize()));

// ---------- boot
const bar = topbar(i18n, api, { onLogout: () => location.reload() });
mount($("#bar"), bar);
api.onLogout(() => location.reload());

async function boot() {
  let account = api.account;
  if (account) {
    try { account = await api.me(); } catch { account = null; }
  }
  if (!account || !ROLES.includes(account.role)) {
    account = await signIn($("#app"), i18n, api, { roles: ROLES, demo: "demo_leader" });
  }
  bar.refresh();
  if (account.role === "admin") { adminNotice(account); return; }
  state.code = account.jurisdiction_code || "";
  state.chain = [state.code];
  await Promise.all([
    state.code ? api.grids.unit(state.code).then((u) => { state.names[state.code] = u.name; }).catch(() => {}) : null,
    loadCatalogues(),
  ]);
  render();
  startLive();
}

// The administrator keeps the system, not the cases: no command dashboard (the API refuses
// the dispatch view to the role), but a clear way to where the work is.
function adminNotice(account) {
  mount($("#app"), h("section", { class: "card stack", dataset: { adminNotice: "1" } },
    h("h2", { text: t("admin.title") }),
    h("p", { text: t("admin.body", { n: account.display_name || "" }) }),
    h("ul", { class: "list" }, [
      ["/admin/", "admin.link.admin"], ["/admin/#rules", "admin.link.rules"],
      ["/admin/#categories", "admin.link.categories"], ["/admin/#calendar", "admin.link.calendar"],
    ].map(([href, key]) => h("li", {}, h("a", { href, text: t(key) })))),
    h("p", { class: "small muted", text: t("admin.hint") })));
}

// ---------- layout
const liveDot = h("span", { class: "live", title: "" });
const liveLabel = h("span", { class: "small muted" });
function setLive(on) {
  liveDot.className = `live${on ? " on" : ""}`;
  liveLabel.textContent = t(on ? "live.on" : "live.off");
}

function render() {
  disposeCharts();
  state.refreshers = [];
  const tabs = h("nav", { class: "tabs", role: "tablist" }, TABS.map((k) => h("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === k), "data-i18n": `tab.${k}`, dataset: { tab: k },
    onclick: () => { state.tab = k; render(); },
  })));
  const crumbs = h("nav", { class: "crumbs", "aria-label": t("drill.path") },
    state.chain.map((code, i) => h("button", {
      type: "button", class: i === state.chain.length - 1 ? "primary" : "ghost", text: unitName(code), dataset: { crumb: code ? levelOf(code) : "all" },
      onclick: () => { state.chain = state.chain.slice(0, i + 1); state.code = code; render(); },
    })), h("span", { class: "spacer" }), liveDot, liveLabel);
  const body = h("div", { id: "tab-body", dataset: { tabBody: state.tab } });
  mount($("#app"), crumbs, tabs, body);
  i18n.apply($("#app"));
  setLive(liveDot.classList.contains("on"));
  ({ overview, decision, citizen, enterprise, grassroots, supervision, linkage, ranking })[state.tab](body);
}
i18n.onChange(() => render());

function drill(code, name) {
  if (name) state.names[code] = name;
  if (!CHILD_LEVEL[levelOf(state.code)]) return;
  state.chain.push(code);
  state.code = code;
  render();
}
// A busy city sends many changes a second: the page reloads what it shows at most every
// REFRESH_MS (the first change right away, the others folded into one trailing reload).
const REFRESH_MS = 4000;
let lastRefresh = 0;
let trailing = null;
function refreshAll() {
  const wait = lastRefresh + REFRESH_MS - Date.now();
  if (wait > 0) { if (!trailing) trailing = setTimeout(() => { trailing = null; refreshAll(); }, wait); return; }
  lastRefresh = Date.now();
  for (const r of state.refreshers) r();
}
function box(cls = "") { return h("section", { class: cls }); }
function append(el, ...nodes) { for (const n of nodes) if (n) el.append(n); }
const card = (labelText, v, cls = "", id = "") => h("div", { class: `kpi ${cls}`, dataset: { kpi: id } },
  h("div", { class: "v", text: v }), h("div", { class: "l", text: labelText }));

// ---------- KPI cards + trend
async function kpiCards(el) {
  const load = () => section(el, i18n, async () => {
    const [k, open, overdue, supervised] = await Promise.all([
      api.command.kpis({ jurisdiction: state.code, ...range(30) }).catch(() => null),
      api.command.cases({ jurisdiction: state.code, page_size: 1 }),
      api.command.cases({ jurisdiction: state.code, overdue: true, page_size: 1 }),
      api.command.cases({ jurisdiction: state.code, supervised: true, page_size: 1 }),
    ]);
    const counts = k?.counts || {};
    const esc = Object.values(k?.escalations_by_level || {}).reduce((a, b) => a + b, 0);
    return h("div", { class: "kpis" },
      card(t("kpi.total"), num(open.total), "", "total"),
      card(t("kpi.overdue"), num(overdue.total), overdue.total ? "bad" : "ok", "overdue"),
      card(t("kpi.supervised"), num(supervised.total), "", "supervised"),
      card(t("trend.volume30"), num(counts.created ?? 0), "", "created"),
      card(t("kpi.ontime"), pct(k?.on_time_resolution_rate), "ok", "ontime"),
      card(t("kpi.satisfaction"), pct(k?.satisfaction_rate), "", "satisfaction"),
      card(t("kpi.escalations"), num(esc), esc ? "bad" : "", "escalations"),
      card(t("kpi.rework"), pct(k?.rework_rate), "", "rework"));
  });
  state.refreshers.push(load);
  return load();
}

async function trends(el) {
  const s = await api.command.series({ jurisdiction: state.code, ...range(30) }).catch(() => null);
  if (!s?.days?.length) { mount(el, h("h3", { text: t("trend.title") }), h("p", { class: "muted", text: t("empty") })); return; }
  const days = s.days.map((d) => String(d.day_from).slice(5));
  const c = h("div", { class: "chart" });
  mount(el, h("h3", { text: t("trend.title") }), c);
  const rate = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 10);
  await chart(c, {
    grid: { left: 36, right: 36, top: 30, bottom: 24 }, tooltip: { trigger: "axis", renderMode: "richText" },
    legend: { top: 0, textStyle: { fontSize: 11 } },
    xAxis: { type: "category", data: days }, yAxis: [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
    series: [
      { name: t("trend.volume"), type: "bar", data: s.days.map((d) => d.counts?.created || 0), itemStyle: { color: "#c8102e" } },
      { name: t("trend.escalations"), type: "bar", data: s.days.map((d) => Object.values(d.escalations_by_level || {}).reduce((a, b) => a + b, 0)), itemStyle: { color: "#d98a00" } },
      { name: t("trend.ontime"), type: "line", yAxisIndex: 1, connectNulls: true, data: s.days.map((d) => rate(d.on_time_resolution_rate)) },
      { name: t("trend.satisfaction"), type: "line", yAxisIndex: 1, connectNulls: true, data: s.days.map((d) => rate(d.satisfaction_rate)) },
    ],
  });
}

// ---------- the map: true counts per child unit (units/stats), drill-down by clicking
function statValue(row, mode) {
  if (!row) return mode === "satisfaction" ? null : 0;
  if (mode === "satisfaction") return row.satisfaction_rate === null || row.satisfaction_rate === undefined ? null : Math.round(row.satisfaction_rate * 1000) / 10;
  return row[mode] || 0;
}
async function unitStats(query) {
  const out = await api.command.unitStats(query);
  for (const r of items(out)) if (r.name && out.by === "unit") state.names[r.code] = r.name;
  return out;
}

async function gridMap(el) {
  const child = CHILD_LEVEL[levelOf(state.code)];
  if (!child) {
    mount(el, h("h3", { text: t("map.title") }), h("p", { class: "muted", dataset: { gridLevel: "1" }, text: t("map.grid_level", { n: unitName(state.code) }) }));
    return;
  }
  const mapBox = h("div", { class: "map", id: "map" });
  const mode = { key: "open" };
  const modeBtns = h("div", { class: "tabs", role: "tablist" }, MAP_MODES.map((k) => h("button", {
    type: "button", "aria-selected": String(mode.key === k), text: t(`map.${k}`), dataset: { mapMode: k }, onclick: (e) => {
      mode.key = k;
      for (const b of modeBtns.children) b.setAttribute("aria-selected", String(b === e.currentTarget));
      paint();
    },
  })));
  const unitsList = h("div", { class: "units", dataset: { units: child } });
  mount(el, h("div", { class: "row" }, h("h3", { class: "grow", text: t("map.title") })), modeBtns, mapBox,
    h("p", { class: "small muted", text: t("map.hint") }), unitsList);
  const [fc, stats] = await Promise.all([
    api.grids.boundaries({ jurisdiction: state.code, levels: child, simplify_m: child === "grid" ? 5 : 20, precision: 5 }).catch(() => null),
    unitStats({ jurisdiction: state.code, ...range(30) }).catch((e) => ({ error: e })),
  ]);
  if (stats.error) { mount(unitsList, h("p", { class: "error", text: stats.error.message })); }
  const rows = {};
  for (const r of items(stats)) rows[r.code] = r;
  const { geo, names } = fc ? keyedByCode(fc) : { geo: { features: [] }, names: {} };
  for (const [c, n] of Object.entries(names)) if (!state.names[c]) state.names[c] = n;
  let chartObj = null;
  function paint() {
    // the unit buttons: the same numbers as the map, and a way to drill on a phone
    const order = Object.keys(rows).length ? Object.keys(rows) : Object.keys(names);
    mount(unitsList, order.length ? h("ul", { class: "list units" }, order.map((code) => {
      const r = rows[code];
      const v = statValue(r, mode.key);
      return h("li", { class: "clickable", dataset: { unit: code }, onclick: () => drill(code, unitName(code)) },
        h("div", { class: "title", text: unitName(code) }),
        h("div", { class: "meta", text: `${t("map.open")} ${statValue(r, "open")} · ${t("map.overdue")} ${statValue(r, "overdue")} · ${t("map.escalated")} ${statValue(r, "escalated")} · ${t("map.satisfaction")} ${v === null && mode.key === "satisfaction" ? "—" : pct(r?.satisfaction_rate)}` }));
    })) : h("p", { class: "muted", text: t("map.no_units") }));
    if (!chartObj) return;
    const data = geo.features.map((f) => ({ name: f.properties.name, value: statValue(rows[f.properties.name], mode.key) }));
    const vals = data.map((d) => d.value).filter((v) => v !== null);
    const max = mode.key === "satisfaction" ? 100 : Math.max(1, ...vals);
    const colours = { open: ["#eef5ff", "#8fb8f0", "#1f5fbf"], overdue: ["#fff6f0", "#f3a48b", "#c8102e"],
      escalated: ["#fff8e6", "#f5c46b", "#b86e00"], satisfaction: ["#fde7e6", "#f6e7a8", "#1e8f4e"] };
    chartObj.setOption({
      tooltip: { trigger: "item", renderMode: "richText",
        formatter: (p) => { const r = rows[p.name]; return `${unitName(p.name)}\n${t("map.open")} ${statValue(r, "open")} · ${t("map.overdue")} ${statValue(r, "overdue")}\n${t("map.escalated")} ${statValue(r, "escalated")} · ${t("map.satisfaction")} ${pct(r?.satisfaction_rate)}`; } },
      visualMap: { min: 0, max, left: 6, bottom: 6, itemHeight: 80, calculable: false,
        text: [mode.key === "satisfaction" ? "100%" : String(max), mode.key === "satisfaction" ? "0%" : "0"],
        inRange: { color: colours[mode.key] }, outOfRange: { color: "#e8e8e8" } },
      series: [{ type: "map", map: mapName, roam: true, selectedMode: false, data: data.map((d) => (d.value === null ? { name: d.name, value: "-" } : d)),
        label: { show: geo.features.length <= 40, fontSize: 10, formatter: (p) => unitName(p.name) },
        emphasis: { label: { show: true }, itemStyle: { areaColor: "#ffd666" } },
        itemStyle: { borderColor: "#fff", borderWidth: 0.6, areaColor: "#e8e8e8" } }],
    }, true);
  }
  const mapName = `yw-${state.code || "all"}-${child}`;
  if (geo.features.length) {
    const echarts = await loadECharts();
    echarts.registerMap(mapName, geo);
    chartObj = await chart(mapBox, {});
    chartObj.on("click", (p) => { if (p.name) drill(p.name, unitName(p.name)); });
  } else {
    mapBox.hidden = true;
  }
  paint();
  state.refreshers.push(async () => {
    try {
      const s = await unitStats({ jurisdiction: state.code, ...range(30) });
      for (const k of Object.keys(rows)) delete rows[k];
      for (const r of items(s)) rows[r.code] = r;
      paint();
    } catch { /* offline: keep what is shown */ }
  });
}

// ---------- case lists: filters, search, cursor paging, CSV export
function caseItem(c) {
  const chips = [statusChip(i18n, c.status)];
  chips[0].textContent = statusName(c.status);
  if (c.overdue) chips.push(h("span", { class: "chip bad", text: t("kpi.overdue") }));
  if (c.escalation_count) chips.push(h("span", { class: "chip warn", text: t("chip.escalated", { n: c.escalation_count }) }));
  if (c.whistle_count) chips.push(h("span", { class: "chip warn", text: t("chip.whistled") }));
  if (c.supervised || c.supervision_count) chips.push(h("span", { class: "chip", text: t("kpi.supervised") }));
  const parts = [sourceName(c.source), catName(c.category), unitName(c.grid_code)];
  if (c.department) parts.push(deptName(c.department));
  parts.push(fmtTime(c.created_at, i18n.lang));
  if (c.deadline) parts.push(`${t("case.deadline")} ${fmtTime(c.deadline, i18n.lang)}`);
  return h("li", { class: "clickable", dataset: { caseId: c.case_id, source: c.source }, onclick: () => openCase(c.case_id) },
    h("div", { class: "title", text: caseTitle(c) }), h("div", {}, chips), h("div", { class: "meta", text: parts.join(" · ") }));
}

function select(name, options, value, onChange) {
  const s = h("select", { name, "aria-label": t(`filter.${name}`), onchange: () => onChange(s.value) },
    options.map(([v, text]) => h("option", { value: v, text, selected: v === value })));
  return s;
}

function caseBrowser(el, { title, base = {}, sources = null, id }) {
  const f = { q: "", category: "", status: "", source: "", overdue: false };
  let cursors = [null];
  let at = 0;
  const listBox = h("div", { class: "stack" });
  const query = () => {
    const q = { jurisdiction: state.code, ...base };
    if (f.q) q.q = f.q;
    if (f.category) q.category = f.category;
    if (f.status) q.status = f.status;
    if (f.overdue) q.overdue = true;
    if (f.source) q.source = f.source;
    else if (sources) q.sources = sources.join(",");
    return q;
  };
  const reset = () => { cursors = [null]; at = 0; load(); };
  const search = h("input", { type: "search", name: "q", maxlength: 100, placeholder: t("filter.search"), "aria-label": t("filter.search") });
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { f.q = search.value.trim(); reset(); }, 350); });
  const cats = Object.values(state.cats).sort((a, b) => a.code.localeCompare(b.code));
  const filters = h("div", { class: "filters row wrap", dataset: { filters: id } },
    search,
    select("category", [["", t("filter.all_categories")], ...cats.map((c) => [c.code, i18n.pick(c.name_zh, c.name_en)])], "", (v) => { f.category = v; reset(); }),
    select("status", [["", t("filter.all_statuses")], ...STATUSES.map((s) => [s, statusName(s)])], "", (v) => { f.status = v; reset(); }),
    (sources || !base.source) ? select("source", [["", t("filter.all_sources")], ...(sources || ALL_SOURCES).map((s) => [s, sourceName(s)])], "", (v) => { f.source = v; reset(); }) : null,
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "overdue", onchange: (e) => { f.overdue = e.target.checked; reset(); } }), h("span", { text: t("kpi.overdue") })),
    h("button", { type: "button", class: "ghost", text: t("export.csv"), dataset: { export: id }, onclick: () => exportCsv(query(), id) }));
  mount(el, h("h3", { text: title }), filters, listBox);
  el.dataset.browser = id;
  async function load() {
    await section(listBox, i18n, async () => {
      const page = await api.command.cases({ ...query(), page_size: PAGE, ...(cursors[at] ? { cursor: cursors[at] } : {}) });
      const list = items(page);
      cursors[at + 1] = page.next_cursor || null;
      await ensureNames(list.map((c) => c.grid_code));
      if (!list.length) return h("p", { class: "muted empty", text: t("list.empty") });
      const total = page.total_estimated ? t("list.about", { n: page.total }) : page.total_exact === false ? t("list.atleast", { n: page.total }) : t("list.total", { n: page.total });
      return h("div", { class: "stack" },
        h("p", { class: "small muted", dataset: { total: String(page.total) }, text: total }),
        h("ul", { class: "list", dataset: { list: id } }, list.map(caseItem)),
        h("div", { class: "row pager" },
          h("button", { type: "button", class: "ghost", text: t("page.prev"), disabled: at === 0, dataset: { page: "prev" }, onclick: () => { at -= 1; load(); } }),
          h("span", { class: "small muted grow", text: t("page.n", { n: at + 1 }) }),
          h("button", { type: "button", class: "ghost", text: t("page.next"), disabled: !cursors[at + 1], dataset: { page: "next" }, onclick: () => { at += 1; load(); } })));
    });
  }
  state.refreshers.push(load);
  load();
}

async function exportCsv(query, id) {
  try {
    const text = await api.command.exportCases({ ...query, format: "csv" });
    const blob = new Blob([typeof text === "string" ? text : JSON.stringify(text)], { type: "text/csv;charset=utf-8" });
    const a = h("a", { href: URL.createObjectURL(blob), download: `cases-${id}-${dayStr(new Date())}.csv` });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    toast(t("export.done"));
  } catch (e) { toast(e.message, "error"); }
}

// ---------- alerts, scoped to the viewer's area, with names
function alertText(a) {
  const d = a.details || {};
  if (a.kind === "spike" && a.jurisdiction_code) {
    return t("alert.spike", { u: unitName(a.jurisdiction_code), c: catName(a.category), n: num(d.count), m: Number(d.mean || 0).toFixed(1) });
  }
  if (a.kind === "rising_overdue" && a.department) {
    return t("alert.rising", { d: deptName(a.department), p: (d.counts || []).join(" → ") });
  }
  return i18n.pick(a.message_zh, a.message_en);
}
function alertsBox(el) {
  const load = () => section(el, i18n, async () => {
    const a = await api.command.alerts({ jurisdiction: state.code, limit: 20 });
    const list = items(a);
    await ensureNames(list.map((x) => x.jurisdiction_code));
    return h("div", { dataset: { alerts: String(list.length) } }, h("h3", { text: t("alerts") }),
      list.length ? h("ul", { class: "list" }, list.map((x) => h("li", {},
        h("div", { class: "title", text: alertText(x) }),
        h("div", { class: "meta", text: `${label(`alert.kind.${x.kind}`, "alert.kind.other")} · ${fmtTime(x.at, i18n.lang)}` }))))
        : h("p", { class: "muted", text: t("alerts.none") }));
  });
  state.refreshers.push(load);
  load();
}

// ---------- tabs
function overview(body) {
  const kp = box(); const mapEl = box("card"); const al = box("card"); const list = box("card");
  append(body, kp, mapEl, al, list);
  kpiCards(kp); gridMap(mapEl); alertsBox(al);
  caseBrowser(list, { title: t("list.all"), id: "all" });
}

async function sourceCards(el, sources) {
  await section(el, i18n, async () => {
    const k = await api.command.kpis({ jurisdiction: state.code, ...range(30) });
    const by = k.by_source || {};
    return h("div", {}, h("h3", { text: t("by.source30") }),
      h("div", { class: "kpis" }, sources.map((s) => card(sourceName(s), num(by[s] || 0), "", `source-${s}`))));
  });
}

function decision(body) {
  const kp = box(); const tr = box("card"); const cat = box("card"); const src = box("card");
  const matrix = box("card"); const al = box("card");
  append(body, kp, h("div", { class: "grid2" }, cat, src), tr, matrix, al);
  kpiCards(kp); trends(tr); alertsBox(al);
  (async () => {
    const k = await api.command.kpis({ jurisdiction: state.code, ...range(30) }).catch(() => null);
    const pie = async (el, title, obj, name) => {
      const entries = Object.entries(obj || {}).filter(([, v]) => v > 0);
      if (!entries.length) { mount(el, h("h3", { text: title }), h("p", { class: "muted", text: t("empty") })); return; }
      const c = h("div", { class: "chart" });
      mount(el, h("h3", { text: title }), c,
        h("ul", { class: "legend small", dataset: { legend: title } }, entries.sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, v]) => h("li", { text: `${name(n)} ${v}` }))));
      await chart(c, { tooltip: { trigger: "item", renderMode: "richText" }, series: [{ type: "pie", radius: ["35%", "65%"],
        label: { formatter: "{b}" }, data: entries.map(([n, value]) => ({ name: name(n), value })) }] });
    };
    await pie(cat, t("by.category"), k?.by_category, catName);
    await pie(src, t("by.source"), k?.by_source, sourceName);
  })();
  section(matrix, i18n, async () => categoryByArea());
}

async function categoryByArea() {
  const child = CHILD_LEVEL[levelOf(state.code)];
  const head = h("h3", { text: t("matrix.title") });
  if (!child) return h("div", {}, head, h("p", { class: "muted", text: t("matrix.grid") }));
  const stats = await unitStats({ jurisdiction: state.code, ...range(30) });
  const units = items(stats).filter((r) => r.created > 0).sort((a, b) => b.created - a.created).slice(0, 10);
  if (!units.length) return h("div", {}, head, h("p", { class: "muted", text: t("empty") }));
  const per = await Promise.all(units.map((u) => api.command.kpis({ jurisdiction: u.code, ...range(30) }).then((k) => k.by_category || {}).catch(() => ({}))));
  const totals = {};
  for (const m of per) for (const [c, v] of Object.entries(m)) totals[c] = (totals[c] || 0) + v;
  const cats = Object.entries(totals).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([c]) => c);
  return h("div", {}, head, h("div", { class: "scroll-x" }, h("table", { class: "t", dataset: { matrix: "category-area" } },
    h("tr", {}, h("th", { text: t("matrix.category") }), units.map((u) => h("th", { text: unitName(u.code) }))),
    cats.map((c) => h("tr", {}, h("td", { text: catName(c) }), per.map((m) => h("td", { text: num(m[c] || 0) })))))));
}

function citizen(body) {
  const cards = box(); const list = box("card");
  append(body, cards, list);
  sourceCards(cards, CITIZEN_SOURCES);
  caseBrowser(list, { title: t("list.citizen"), sources: CITIZEN_SOURCES, id: "citizen" });
}
function grassroots(body) {
  const cards = box(); const list = box("card");
  append(body, cards, list);
  sourceCards(cards, GRASSROOTS_SOURCES);
  caseBrowser(list, { title: t("list.grassroots"), sources: GRASSROOTS_SOURCES, id: "grassroots" });
}

function enterprise(body) {
  const stages = box(); const d = box("card"); const list = box("card");
  append(body, stages, d, list);
  const filter = { status: "", page: 1 };
  section(stages, i18n, async () => {
    const scope = state.code ? { jurisdiction: state.code } : {};
    const counts = await Promise.all([...DEMAND_STAGES.map((s) => api.enterprise.demands({ ...scope, status: s, page_size: 1 }).then((p) => p.total).catch(() => null)),
      api.enterprise.demands({ ...scope, overdue: true, page_size: 1 }).then((p) => p.total).catch(() => null)]);
    return h("div", {}, h("h3", { text: t("ent.stages") }), h("div", { class: "kpis" },
      DEMAND_STAGES.map((s, i) => card(label(`demand.${s}`, "status.other"), num(counts[i]), "", `demand-${s}`)),
      card(t("kpi.overdue"), num(counts[DEMAND_STAGES.length]), counts[DEMAND_STAGES.length] ? "bad" : "ok", "demand-overdue")));
  });
  const demandsList = h("div");
  const stageSel = select("stage", [["", t("filter.all_stages")], ...DEMAND_STAGES.map((s) => [s, label(`demand.${s}`, "status.other")])], "", (v) => { filter.status = v; filter.page = 1; loadDemands(); });
  mount(d, h("h3", { text: t("ent.demands") }), h("div", { class: "filters row wrap" }, stageSel), demandsList);
  function loadDemands() {
    section(demandsList, i18n, async () => {
      const page = await api.enterprise.demands({ ...(state.code ? { jurisdiction: state.code } : {}), page: filter.page, page_size: PAGE, ...(filter.status ? { status: filter.status } : {}) });
      const list = items(page);
      if (!list.length) return h("p", { class: "muted empty", text: t("ent.none") });
      const pages = Math.max(1, Math.ceil((page.total || 0) / PAGE));
      return h("div", { class: "stack" }, h("p", { class: "small muted", text: t("list.total", { n: page.total }) }),
        h("ul", { class: "list", dataset: { list: "demands" } }, list.map((x) => h("li", {},
          h("div", { class: "title", text: x.title || x.description }),
          h("div", {}, h("span", { class: "chip", text: label(`demand.${x.status}`, "status.other") }),
            x.overdue ? h("span", { class: "chip bad", text: t("kpi.overdue") }) : null,
            x.urgency === "urgent" ? h("span", { class: "chip warn", text: t("ent.urgent") }) : null),
          h("div", { class: "meta", text: [x.enterprise_name, label(`ecat.${x.category}`, "ecat.other"), x.department ? deptName(x.department) : null,
            fmtTime(x.filed_at, i18n.lang), x.due_at ? `${t("case.deadline")} ${fmtTime(x.due_at, i18n.lang)}` : null].filter(Boolean).join(" · ") })))),
        h("div", { class: "row pager" },
          h("button", { type: "button", class: "ghost", text: t("page.prev"), disabled: filter.page <= 1, onclick: () => { filter.page -= 1; loadDemands(); } }),
          h("span", { class: "small muted grow", text: t("page.of", { n: filter.page, m: pages }) }),
          h("button", { type: "button", class: "ghost", text: t("page.next"), disabled: filter.page >= pages, onclick: () => { filter.page += 1; loadDemands(); } })));
    });
  }
  state.refreshers.push(loadDemands);
  loadDemands();
  caseBrowser(list, { title: t("list.enterprise"), base: { source: "enterprise" }, id: "enterprise" });
}

function supervision(body) {
  const sup = box("card"); const proj = box("card");
  append(body, sup, proj);
  caseBrowser(sup, { title: t("list.supervised"), base: { supervised: true }, id: "supervised" });
  section(proj, i18n, async () => {
    const page = await api.enterprise.projects(state.code ? { jurisdiction: state.code.slice(0, 6) } : {});
    const list = items(page);
    return h("div", {}, h("h3", { text: t("ent.projects") }), list.length ? h("ul", { class: "list", dataset: { list: "projects" } }, list.map((p) => {
      const pr = p.progress || {};
      const total = Number(pr.total) || (p.steps || []).length;
      const done = Number(pr.done) || 0;
      const share = total ? done / total : 0;
      const late = (pr.late_steps || []).length;
      return h("li", {}, h("div", { class: "title", text: p.name }),
        h("div", {}, h("span", { class: "chip", text: label(`project.${p.status}`, "status.other") }), late ? h("span", { class: "chip bad", text: t("project.late", { n: late }) }) : null),
        h("div", { class: "bar", role: "progressbar", "aria-valuenow": String(Math.round(share * 100)) }, h("span", { style: `width:${Math.round(share * 100)}%` })),
        h("div", { class: "meta", text: [t("project.progress", { d: done, n: total, p: pct(share) }),
          pr.current_step ? (state.depts[pr.current_department] ? t("project.current", { s: pr.current_step, d: deptName(pr.current_department) }) : t("project.current_step", { s: pr.current_step })) : null,
          daysLeft(pr.working_days_left)].filter(Boolean).join(" · ") }));
    })) : h("p", { class: "muted", text: t("project.none") }));
  });
}

function linkage(body) {
  const tally = box("card"); const whistled = box("card"); const esc = box("card"); const depts = box("card");
  append(body, tally, whistled, esc, depts);
  section(tally, i18n, async () => {
    const d = await api.command.whistleTally({ jurisdiction: state.code });
    const list = items(d);
    return h("div", {}, h("h3", { text: t("duty") }), list.length ? h("div", { class: "scroll-x" }, h("table", { class: "t", dataset: { table: "duty" } },
      h("tr", {}, ["duty.department", "duty.summoned", "duty.on_time", "duty.late", "duty.missing", "duty.pending"].map((k) => h("th", { text: t(k) }))),
      list.map((r) => h("tr", {}, [deptName(r.department), r.summoned, r.on_time, r.late, r.missing, r.pending].map((v) => h("td", { text: num(v) }))))))
      : h("p", { class: "muted", text: t("duty.none") }));
  });
  caseBrowser(whistled, { title: t("list.whistled"), base: { whistled: true }, id: "whistled" });
  caseBrowser(esc, { title: t("list.escalated"), base: { escalated: true }, id: "escalated" });
  section(depts, i18n, async () => {
    const s = await unitStats({ jurisdiction: state.code, by: "department", ...range(30) });
    const list = items(s).filter((r) => r.code && (r.open || r.overdue));
    return h("div", {}, h("h3", { text: t("linkage.departments") }), list.length ? h("div", { class: "scroll-x" }, h("table", { class: "t" },
      h("tr", {}, ["duty.department", "map.open", "map.overdue", "map.escalated"].map((k) => h("th", { text: t(k) }))),
      list.sort((a, b) => b.open - a.open).map((r) => h("tr", {}, [deptName(r.code), r.open, r.overdue, r.escalated].map((v) => h("td", { text: num(v) }))))))
      : h("p", { class: "muted", text: t("empty") }));
  });
}

function daysLeft(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return null;
  const v = Math.round(Math.abs(Number(n)) * 10) / 10;
  return Number(n) < 0 ? t("project.overdue_by", { n: v }) : t("project.left", { n: v });
}

// ---------- league tables: units under the viewer, departments, over a month
function ranking(body) {
  const month = h("input", { type: "month", name: "month", value: dayStr(new Date()).slice(0, 7), max: dayStr(new Date()).slice(0, 7), "aria-label": t("rank.month") });
  const units = box("card"); const depts = box("card");
  append(body, h("div", { class: "row filters" }, h("label", {}, h("span", { text: t("rank.month") }), month)), units, depts);
  const cols = [["rank.ontime", (r) => pct(r.on_time_resolution_rate)], ["rank.satisfaction", (r) => pct(r.satisfaction_rate)],
    ["rank.rework", (r) => pct(r.rework_rate)], ["rank.overdue", (r) => num(r.overdue_events)], ["rank.resolved", (r) => num(r.resolved)], ["rank.created", (r) => num(r.created)]];
  const score = (r) => [r.on_time_resolution_rate ?? -1, r.satisfaction_rate ?? -1, -(r.overdue_events || 0)];
  const cmp = (a, b) => { const x = score(a); const y = score(b); for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i] - x[i]; return 0; };
  const table = (rows, name, id, onRow) => h("div", { class: "scroll-x" }, h("table", { class: "t", dataset: { table: id } },
    h("tr", {}, h("th", { text: "#" }), h("th", { text: t(id === "rank-units" ? "rank.unit" : "duty.department") }), cols.map(([k]) => h("th", { text: t(k) }))),
    rows.map((r, i) => h("tr", { class: onRow ? "clickable" : "", onclick: onRow ? () => onRow(r) : null, dataset: { code: id === "rank-units" ? r.code : "" } },
      h("td", { text: String(i + 1) }), h("td", { text: name(r) }), cols.map(([, f]) => h("td", { text: f(r) }))))));
  const load = () => {
    const period = monthRange(month.value || dayStr(new Date()).slice(0, 7));
    const child = CHILD_LEVEL[levelOf(state.code)];
    section(units, i18n, async () => {
      const head = h("h3", { text: t("rank.units", { l: child ? t(`level.${child}`) : "" }) });
      if (!child) return h("div", {}, head, h("p", { class: "muted", text: t("matrix.grid") }));
      const s = await unitStats({ jurisdiction: state.code, ...period });
      const rows = items(s).sort(cmp);
      return h("div", {}, head, h("p", { class: "small muted", text: t("rank.period", { a: period.day_from, b: period.day_to }) }),
        rows.length ? table(rows, (r) => unitName(r.code), "rank-units", (r) => drill(r.code, unitName(r.code))) : h("p", { class: "muted", text: t("empty") }));
    });
    section(depts, i18n, async () => {
      const s = await unitStats({ jurisdiction: state.code, by: "department", ...period });
      const rows = items(s).filter((r) => r.code && (r.resolved || r.overdue_events || r.rated || r.open)).sort(cmp);
      return h("div", {}, h("h3", { text: t("rank.departments") }),
        rows.length ? table(rows, (r) => deptName(r.code), "rank-departments") : h("p", { class: "muted", text: t("empty") }));
    });
  };
  month.addEventListener("change", load);
  state.refreshers.push(load);
  load();
}

// ---------- case detail sheet
function mediaUrls(detail) {
  const urls = new Set();
  const add = (u) => { if (typeof u === "string" && /^(\/|https?:)/.test(u)) urls.add(u); };
  const walk = (o) => {
    if (!o || typeof o !== "object") return;
    for (const k of ["media", "attachments", "photos"]) if (Array.isArray(o[k])) o[k].forEach((m) => add(typeof m === "string" ? m : m?.url));
  };
  walk(detail.case); walk(detail);
  for (const e of detail.timeline || []) { walk(e); walk(e.data); }
  return [...urls];
}

async function openCase(caseId) {
  const panel = h("div", { class: "panel", role: "dialog", "aria-modal": "true" });
  const sheet = h("div", { class: "sheet", onclick: (e) => { if (e.target === sheet) sheet.remove(); } }, panel);
  document.body.append(sheet);
  const load = () => section(panel, i18n, async () => {
    const d = await api.command.case(caseId);
    const c = d.case || d;
    await ensureNames([c.grid_code]);
    let media = mediaUrls(d);
    if (!media.length) {
      try { media = mediaUrls(await api.cases.get(caseId)); } catch { /* none */ }
    }
    const tl = (d.timeline || []).map((e) => {
      const data = e.data || {};
      const who = data.actor_name || data.actor?.name || (data.actor_role ? label(`role.${data.actor_role}`, "role.other") : "");
      // a routing rule's own note ("rule …") is the machine's: say it in words
      const raw = data.note || data.text || data.description || "";
      const note = /^rule\b/.test(raw) ? t("tl.auto_routed") : raw;
      const step = e.type && e.type !== "case.stepped" ? label(`tl.${e.type}`, `tl.${e.action}`) : label(`tl.${e.action}`, "tl.other");
      return h("li", {}, h("div", { class: "title", text: `${step === `tl.${e.action}` ? t("tl.other") : step}${data.status ? ` → ${statusName(data.status)}` : ""}` }),
        h("div", { class: "meta", text: `${fmtTime(e.at, i18n.lang)} ${who}` }), note ? h("div", { text: note }) : null);
    });
    const actions = h("div", { class: "row" },
      h("button", { class: "primary", type: "button", text: t("case.supervise"), dataset: { action: "supervise" }, onclick: () => superviseForm(c, actionBox, load) }),
      h("button", { type: "button", text: t("case.dispatch"), dataset: { action: "dispatch" }, onclick: () => dispatchForm(c, actionBox, load) }),
      h("button", { class: "warn", type: "button", text: t("case.escalate"), dataset: { action: "escalate" }, onclick: () => escalate(c, load) }),
      h("span", { class: "grow" }),
      h("button", { class: "ghost", type: "button", text: t("back"), onclick: () => sheet.remove() }));
    const actionBox = h("div");
    return h("div", { class: "stack", dataset: { caseDetail: caseId } },
      h("h2", { text: caseTitle(c) }),
      h("div", {}, h("span", { class: "chip", text: statusName(c.status) }), c.overdue ? h("span", { class: "chip bad", text: t("kpi.overdue") }) : null,
        c.supervised ? h("span", { class: "chip", text: t("kpi.supervised") }) : null),
      c.description && c.description !== "null" && c.description !== c.title ? h("p", { text: c.description }) : null,
      h("p", { class: "small muted", text: `${sourceName(c.source)} · ${catName(c.category)} · ${t("case.grid")} ${unitName(c.grid_code)}${c.department ? ` · ${t("case.handler")} ${deptName(c.department)}` : ""}${c.deadline ? ` · ${t("case.deadline")} ${fmtTime(c.deadline, i18n.lang)}` : ""}` }),
      media.length ? h("div", {}, h("h3", { text: t("case.photos") }), h("div", { class: "photos" }, media.map((u) => h("a", { href: u, target: "_blank", rel: "noopener" }, h("img", { src: u, alt: "", loading: "lazy" }))))) : null,
      actions, actionBox,
      h("h3", { text: t("case.timeline") }), tl.length ? h("ol", { class: "timeline" }, tl) : h("p", { class: "muted", text: t("empty") }),
      (d.supervisions || []).length ? h("div", {}, h("h3", { text: t("case.supervisions") }), h("ul", { class: "list" }, d.supervisions.map((s) =>
        h("li", {}, h("div", { text: s.note || "" }), h("div", { class: "meta", text: `${fmtTime(s.at, i18n.lang)} · ${t("case.deadline")} ${fmtTime(s.deadline, i18n.lang)}` }))))) : null,
      (d.escalations || []).length ? h("div", {}, h("h3", { text: t("case.escalations") }), h("ul", { class: "list" }, d.escalations.map((s) =>
        h("li", {}, h("div", { text: `${label(`level.${s.from_level}`, "level.other")} → ${label(`level.${s.to_level}`, "level.other")}` }), h("div", { class: "meta", text: `${s.reason ? label(`reason.${s.reason}`, "reason.other") : ""} ${fmtTime(s.at, i18n.lang)}` }))))) : null);
  });
  load();
}

function superviseForm(c, box, reload) {
  const note = h("textarea", { name: "note", maxlength: 1000, required: true, value: t("supervise.default") });
  const hours = h("input", { name: "hours", type: "number", min: 1, max: 720, value: 24 });
  mount(box, h("form", { class: "card stack", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api.command.supervise(c.case_id, { note: note.value.trim(), deadline_hours: Number(hours.value) || 24, handlers: [], expected_version: c.version });
      toast(t("supervise.done"));
      reload(); refreshAll();
    } catch (x) { toast(x.message, "error"); }
  } }, h("label", {}, h("span", { text: t("supervise.note") }), note),
  h("label", {}, h("span", { text: t("supervise.hours") }), hours),
  h("button", { class: "primary", type: "submit", text: t("case.supervise"), dataset: { action: "supervise-confirm" } })));
}

async function dispatchForm(c, box, reload) {
  let depts = [];
  try { depts = items(await api.command.departments()); } catch { depts = []; }
  const sel = h("select", { name: "department" }, depts.filter((d) => d.active !== false).map((d) =>
    h("option", { value: d.code, selected: d.code === c.department, text: i18n.pick(d.name_zh, d.name_en) })));
  const free = h("input", { name: "department", value: c.department || "", pattern: "[a-z][a-z0-9_]{1,63}" });
  const note = h("input", { name: "note", maxlength: 2000 });
  mount(box, h("form", { class: "card stack", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api.command.dispatch(c.case_id, { department: (depts.length ? sel.value : free.value.trim()) || null, note: note.value, expected_version: c.version });
      toast(t("dispatch.done"));
      reload(); refreshAll();
    } catch (x) { toast(x.message, "error"); }
  } }, h("label", {}, h("span", { text: t("dispatch.department") }), depts.length ? sel : free),
  h("label", {}, h("span", { text: t("dispatch.note") }), note),
  h("button", { class: "primary", type: "submit", text: t("case.dispatch") })));
}

async function escalate(c, reload) {
  try {
    await api.command.escalate(c.case_id, { note: "", expected_version: c.version });
    toast(t("escalate.done"));
    reload(); refreshAll();
  } catch (x) { toast(x.message, "error"); }
}

// ---------- live
function startLive() {
  state.stop?.();
  let pending = null;
  const soon = () => { clearTimeout(pending); pending = setTimeout(refreshAll, 400); };
  state.stop = live({
    open: api.live.cases({ jurisdiction: state.code }),
    onState: setLive,
    onEvent: (type, data) => {
      if (type === "ping" || type === "hello") return;
      if (type === "case.created" && data?.title) toast(t("new.case", { t: data.title }));
      soon();
    },
    pollMs: 5000,
    poll: async () => { refreshAll(); },
  });
}

boot();
