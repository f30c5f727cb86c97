// Leaders' mobile command dashboard (兴隆决策指挥): map, KPIs, trends, the six functions,
// overdue/escalated cases, drill-down city → grid, case detail, one-key supervision, dispatch.
import { createApi } from "../common/api/client.js";
import cases from "../common/api/cases.js";
import command from "../common/api/command.js";
import enterpriseApi from "../common/api/enterprise.js";
import grids from "../common/api/grids.js";
import liveApi from "../common/api/live.js";
import { h, mount, clear, $, fmtTime, pct, toast } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, section, statusChip } from "../common/shell.js";
import { live } from "../common/live.js";
import { loadECharts, keyedByCode } from "../common/map.js";
import STRINGS from "./strings.js";

const i18n = createI18n(STRINGS);
const t = i18n.t;
const api = createApi("dashboard", i18n, { cases, command, enterprise: enterpriseApi, grids, live: liveApi });
const ROLES = ["leader", "city_staff", "district_staff", "street_staff", "community_staff", "admin"];
const LEVEL_BY_LEN = { 4: "city", 6: "district", 9: "street", 12: "community", 15: "grid" };
const CHILD_LEVEL = { city: "district", district: "street", street: "community", community: "grid" };
const FINISHED = new Set(["closed", "evaluated", "rejected", "forwarded", "merged"]);
const TABS = ["overview", "decision", "citizen", "enterprise", "grassroots", "supervision", "linkage"];
const CITIZEN_SOURCES = ["citizen", "open311", "hotline", "suggestion_box"];
const GRASSROOTS_SOURCES = ["patrol", "sensor"];

const state = { code: "", chain: [], tab: "overview", names: {}, stop: null, charts: [], pollCases: null };

// ---------- helpers
const levelOf = (code) => LEVEL_BY_LEN[code.length] || "city";
const items = (page) => (Array.isArray(page) ? page : page?.items || []);
const dayStr = (d) => d.toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
function range(days) {
  const to = new Date();
  const from = new Date(Date.now() - (days - 1) * 86400000);
  return { day_from: dayStr(from), day_to: dayStr(to) };
}
function unitName(code) { return state.names[code] || code || t("level.city"); }
function caseTitle(c) { return c.title || c.description || c.category || ""; }

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
  state.code = account.jurisdiction_code || "";
  // admin ("" = everywhere): the whole deployment
  state.chain = [state.code];
  if (state.code) {
    try { state.names[state.code] = (await api.grids.unit(state.code)).name; } catch { /* code only */ }
  }
  render();
  startLive();
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
  const tabs = h("nav", { class: "tabs", role: "tablist" }, TABS.map((k) => h("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === k), "data-i18n": `tab.${k}`, dataset: { tab: k },
    onclick: () => { state.tab = k; render(); },
  })));
  const crumbs = h("nav", { class: "crumbs", "aria-label": "drill-down" },
    state.chain.map((code, i) => h("button", {
      type: "button", class: i === state.chain.length - 1 ? "primary" : "ghost", text: unitName(code),
      onclick: () => { state.chain = state.chain.slice(0, i + 1); state.code = code; render(); },
    })), h("span", { class: "spacer" }), liveDot, liveLabel);
  const body = h("div", { id: "tab-body" });
  mount($("#app"), crumbs, tabs, body);
  i18n.apply($("#app"));
  setLive(liveDot.classList.contains("on"));
  ({ overview, decision, citizen, enterprise, grassroots, supervision, linkage })[state.tab](body);
}
i18n.onChange(() => render());

function drill(code, name) {
  if (name) state.names[code] = name;
  if (!CHILD_LEVEL[levelOf(state.code)] && state.code) return;
  state.chain.push(code);
  state.code = code;
  render();
}

// ---------- KPI cards + trend
async function kpiCards(el) {
  await section(el, i18n, async () => {
    const [k, overdue, supervised] = await Promise.all([
      state.code.length >= 4 ? api.command.kpis({ jurisdiction: state.code, ...range(30) }).catch(() => null) : null,
      api.command.cases({ jurisdiction: state.code, overdue: true, page_size: 1 }),
      api.command.cases({ jurisdiction: state.code, supervised: true, page_size: 1 }),
    ]);
    const all = await api.command.cases({ jurisdiction: state.code, page_size: 1 });
    const counts = k?.counts || {};
    const esc = Object.values(k?.escalations_by_level || {}).reduce((a, b) => a + b, 0);
    const card = (label, v, cls = "", id = "") => h("div", { class: `kpi ${cls}`, dataset: { kpi: id } },
      h("div", { class: "v", text: v }), h("div", { class: "l", text: t(label) }));
    return h("div", { class: "kpis" },
      card("kpi.total", all.total ?? "—", "", "total"),
      card("kpi.overdue", overdue.total ?? "—", overdue.total ? "bad" : "ok", "overdue"),
      card("kpi.supervised", supervised.total ?? "—", "", "supervised"),
      k ? card("kpi.ontime", pct(k.on_time_resolution_rate), "ok", "ontime") : null,
      k ? card("kpi.satisfaction", pct(k.satisfaction_rate), "", "satisfaction") : null,
      k ? card("kpi.escalations", esc || counts.escalated || 0, esc ? "bad" : "", "escalations") : null,
      k ? card("kpi.accept", pct(k.on_time_acceptance_rate), "", "accept") : null,
      k ? card("trend.volume", counts.created ?? 0, "", "created") : null);
  });
}

async function trends(el) {
  if (state.code.length < 4) { el.hidden = true; return; }
  const s = await api.command.series({ jurisdiction: state.code, ...range(30) }).catch(() => null);
  if (!s?.days?.length) { el.hidden = true; return; }
  const days = s.days.map((d) => String(d.day_from).slice(5));
  const box = h("div", { class: "chart" });
  mount(el, h("h3", { text: t("trend.title") }), box);
  const rate = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 10);
  await chart(box, {
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

// ---------- map
async function caseMapCounts(children) {
  // Open and overdue cases per child unit, from the command view (newest 200 of each kind).
  const [open, overdue] = await Promise.all([
    api.command.cases({ jurisdiction: state.code, page_size: 200 }),
    api.command.cases({ jurisdiction: state.code, overdue: true, page_size: 200 }),
  ]);
  const byChild = {};
  const bucket = (c) => children.find((code) => (c.grid_code || c.jurisdiction_code || "").startsWith(code));
  for (const c of items(open)) if (!FINISHED.has(c.status)) { const k = bucket(c); if (k) (byChild[k] ||= { open: 0, overdue: 0 }).open++; }
  for (const c of items(overdue)) { const k = bucket(c); if (k) (byChild[k] ||= { open: 0, overdue: 0 }).overdue++; }
  return byChild;
}

async function gridMap(el) {
  const level = levelOf(state.code);
  const child = CHILD_LEVEL[level] || "grid";
  const box = h("div", { class: "map", id: "map" });
  const mode = { key: "open" };
  const modeBtns = h("div", { class: "tabs" }, ["open", "overdue"].map((k) => h("button", {
    type: "button", "aria-selected": String(mode.key === k), text: t(`map.${k}`), onclick: (e) => {
      mode.key = k;
      for (const b of modeBtns.children) b.setAttribute("aria-selected", String(b === e.currentTarget));
      paint();
    },
  })));
  mount(el, h("div", { class: "row" }, h("h3", { class: "grow", text: t("map.title") }), modeBtns), box,
    h("p", { class: "small muted", text: t("map.hint") }));
  let fc;
  try {
    fc = await api.grids.boundaries({ jurisdiction: state.code, levels: child, simplify_m: child === "grid" ? 5 : 20, precision: 5 });
  } catch (e) { mount(box, h("p", { class: "error", text: e.message })); return; }
  const { geo, names } = keyedByCode(fc);
  if (!geo.features.length) { el.hidden = true; return; }
  Object.assign(state.names, names);
  const echarts = await loadECharts();
  const mapName = `yw-${state.code || "all"}-${child}`;
  echarts.registerMap(mapName, geo);
  const chartObj = await chart(box, {});
  let counts = {};
  function paint() {
    const data = geo.features.map((f) => ({ name: f.properties.name, value: counts[f.properties.name]?.[mode.key] || 0 }));
    const max = Math.max(1, ...data.map((d) => d.value));
    chartObj.setOption({
      // richText: drawn on the canvas, never parsed as HTML (unit names are data)
      tooltip: { trigger: "item", renderMode: "richText",
        formatter: (p) => `${names[p.name] || p.name}\n${t("map.open")} ${counts[p.name]?.open || 0} · ${t("map.overdue")} ${counts[p.name]?.overdue || 0}` },
      visualMap: { min: 0, max, left: 6, bottom: 6, itemHeight: 80, calculable: false, text: [String(max), "0"],
        inRange: { color: mode.key === "overdue" ? ["#fff6f0", "#f3a48b", "#c8102e"] : ["#eef5ff", "#8fb8f0", "#1f5fbf"] } },
      series: [{ type: "map", map: mapName, roam: true, selectedMode: false, data,
        label: { show: geo.features.length <= 40, fontSize: 10, formatter: (p) => names[p.name] || "" },
        emphasis: { label: { show: true }, itemStyle: { areaColor: "#ffd666" } },
        itemStyle: { borderColor: "#fff", borderWidth: 0.6 } }],
    }, true);
  }
  chartObj.on("click", (p) => { if (p.name && CHILD_LEVEL[levelOf(state.code)]) drill(p.name, names[p.name]); });
  paint();
  try { counts = await caseMapCounts(Object.keys(names)); paint(); } catch { /* keep the plain map */ }
  state.repaintMap = async () => { try { counts = await caseMapCounts(Object.keys(names)); paint(); } catch { /* offline */ } };
}

// ---------- case lists
function caseItem(c) {
  const chips = [statusChip(i18n, c.status)];
  if (c.overdue) chips.push(h("span", { class: "chip bad", text: t("kpi.overdue") }));
  if (c.escalation_count) chips.push(h("span", { class: "chip warn", text: `${t("case.escalate")}×${c.escalation_count}` }));
  if (c.supervised || c.supervision_count) chips.push(h("span", { class: "chip", text: t("kpi.supervised") }));
  return h("li", { class: "clickable", dataset: { caseId: c.case_id }, onclick: () => openCase(c.case_id) },
    h("div", { class: "title", text: caseTitle(c) }),
    h("div", {}, chips),
    h("div", { class: "meta", text: `${t(`source.${c.source}`)} · ${unitName(c.grid_code)} · ${fmtTime(c.created_at, i18n.lang)}${c.deadline ? ` · ${t("case.deadline")} ${fmtTime(c.deadline, i18n.lang)}` : ""}` }));
}

function caseList(el, titleKey, query, filter) {
  const box = h("div");
  mount(el, h("h3", { text: t(titleKey) }), box);
  const load = () => section(box, i18n, async () => {
    const page = await api.command.cases({ jurisdiction: state.code, page_size: 50, ...query });
    const list = items(page).filter(filter || (() => true));
    return list.length ? h("ul", { class: "list", dataset: { list: titleKey } }, list.map(caseItem)) : null;
  });
  load();
  return load;
}

// ---------- tabs
function overview(body) {
  const kp = h("section"); const mapEl = h("section", { class: "card" }); const tr = h("section", { class: "card" });
  const ov = h("section"); const esc = h("section"); const recent = h("section");
  append2(body, kp, h("div", { class: "grid2" }, mapEl, tr), h("div", { class: "grid2" }, ov, esc), recent);
  kpiCards(kp); gridMap(mapEl); trends(tr);
  const reloads = [
    caseList(ov, "list.overdue", { overdue: true }),
    caseList(esc, "list.escalated", {}, (c) => c.escalation_count > 0 || (c.escalation_level && c.escalation_level !== c.level)),
    caseList(recent, "list.recent", {}),
  ];
  state.refresh = () => { kpiCards(kp); reloads.forEach((r) => r()); state.repaintMap?.(); };
}
function append2(el, ...nodes) { for (const n of nodes) el.append(n); }

function decision(body) {
  const cat = h("section", { class: "card" }); const src = h("section", { class: "card" });
  const alerts = h("section", { class: "card" }); const tr = h("section", { class: "card" });
  append2(body, h("div", { class: "grid2" }, cat, src), tr, alerts);
  trends(tr);
  (async () => {
    if (state.code.length < 4) { cat.hidden = src.hidden = true; return; }
    const k = await api.command.kpis({ jurisdiction: state.code, ...range(30) }).catch(() => null);
    if (!k) { cat.hidden = src.hidden = true; return; }
    const pie = async (el, title, obj, label) => {
      const box = h("div", { class: "chart" });
      mount(el, h("h3", { text: t(title) }), box);
      await chart(box, { tooltip: { trigger: "item", renderMode: "richText" }, series: [{ type: "pie", radius: ["35%", "65%"],
        data: Object.entries(obj || {}).map(([name, value]) => ({ name: label(name), value })) }] });
    };
    await pie(cat, "by.category", k.by_category, (n) => n);
    await pie(src, "by.source", k.by_source, (n) => t(`source.${n}`));
  })();
  section(alerts, i18n, async () => {
    const a = await api.command.alerts({ limit: 30 });
    if (!items(a).length) return null;
    return h("div", {}, h("h3", { text: t("alerts") }), h("ul", { class: "list" }, items(a).map((x) =>
      h("li", {}, h("div", { class: "title", text: i18n.pick(x.message_zh, x.message_en) }),
        h("div", { class: "meta", text: `${x.kind} · ${fmtTime(x.at, i18n.lang)}` })))));
  });
}

function bySources(body, sources) {
  const lists = sources.map((s) => { const el = h("section"); body.append(el); return [s, el]; });
  const reloads = lists.map(([s, el]) => {
    el.dataset.source = s;
    const load = caseList(el, `source.${s}`, { source: s });
    return load;
  });
  state.refresh = () => reloads.forEach((r) => r());
}
function citizen(body) { bySources(body, CITIZEN_SOURCES); }
function grassroots(body) { bySources(body, GRASSROOTS_SOURCES); }

function enterprise(body) {
  const d = h("section"); const cases = h("section");
  append2(body, d, cases);
  section(d, i18n, async () => {
    const page = await api.enterprise.demands({ page_size: 50 });
    if (!items(page).length) return null;
    return h("div", {}, h("h3", { text: t("ent.demands") }), h("ul", { class: "list" }, items(page).map((x) =>
      h("li", {}, h("div", { class: "title", text: x.title || x.description || x.category || x.demand_id }),
        h("div", {}, h("span", { class: "chip", text: x.status || "" }), x.overdue ? h("span", { class: "chip bad", text: t("kpi.overdue") }) : null),
        h("div", { class: "meta", text: `${x.enterprise_name || x.enterprise_id || ""} · ${fmtTime(x.created_at || x.filed_at, i18n.lang)}` })))));
  });
  const reload = caseList(cases, "source.enterprise", { source: "enterprise" });
  state.refresh = () => reload();
}

function supervision(body) {
  const sup = h("section"); const proj = h("section", { class: "card" });
  append2(body, sup, proj);
  const reload = caseList(sup, "list.supervised", { supervised: true });
  state.refresh = () => reload();
  section(proj, i18n, async () => {
    const page = await api.enterprise.projects();
    if (!items(page).length) return null;
    return h("div", {}, h("h3", { text: t("ent.projects") }), h("ul", { class: "list" }, items(page).map((p) => {
      const done = p.progress ?? (p.steps ? p.steps.filter((s) => s.status === "approved" || s.approved_at).length / Math.max(1, p.steps.length) : null);
      return h("li", {}, h("div", { class: "title", text: p.name || p.title || p.project_id }),
        h("div", {}, h("span", { class: "chip", text: p.status || "" }), p.warning || p.overdue ? h("span", { class: "chip bad", text: t("kpi.overdue") }) : null),
        h("div", { class: "meta", text: `${t("ent.progress")} ${done === null ? "—" : pct(done > 1 ? done / 100 : done)}` }));
    })));
  });
}

function linkage(body) {
  const ov = h("section"); const esc = h("section"); const tally = h("section", { class: "card" });
  append2(body, h("div", { class: "grid2" }, ov, esc), tally);
  const reloads = [
    caseList(ov, "list.overdue", { overdue: true }),
    caseList(esc, "list.escalated", {}, (c) => c.escalation_count > 0 || c.whistle_count > 0),
  ];
  state.refresh = () => reloads.forEach((r) => r());
  section(tally, i18n, async () => {
    const d = await api.command.whistleTally({ jurisdiction: state.code });
    if (!items(d).length) return null;
    return h("div", {}, h("h3", { text: t("duty") }), h("table", { class: "t" },
      h("tr", {}, ["department", "summoned", "on_time", "late", "missing"].map((k) => h("th", { text: k }))),
      items(d).map((r) => h("tr", {}, [r.department, r.summoned, r.on_time, r.late, r.missing].map((v) => h("td", { text: v }))))));
  });
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
    let media = mediaUrls(d);
    if (!media.length) {
      try { media = mediaUrls(await api.cases.get(caseId)); } catch { /* none */ }
    }
    const tl = (d.timeline || []).map((e) => {
      const data = e.data || {};
      const who = data.actor_name || data.actor?.name || data.actor_role || data.actor_id || "";
      const note = data.note || data.text || data.description || "";
      return h("li", {}, h("div", { class: "title", text: `${e.action || e.type}${data.status ? ` → ${t(`status.${data.status}`)}` : ""}` }),
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
      h("div", {}, statusChip(i18n, c.status), c.overdue ? h("span", { class: "chip bad", text: t("kpi.overdue") }) : null,
        c.supervised ? h("span", { class: "chip", text: t("kpi.supervised") }) : null),
      c.description && c.description !== "null" && c.description !== c.title ? h("p", { text: c.description }) : null,
      h("p", { class: "small muted", text: `${t(`source.${c.source}`)} · ${c.category} · ${t("case.grid")} ${unitName(c.grid_code)}${c.handler || c.department ? ` · ${t("case.handler")} ${c.handler || c.department}` : ""}${c.deadline ? ` · ${t("case.deadline")} ${fmtTime(c.deadline, i18n.lang)}` : ""}` }),
      media.length ? h("div", {}, h("h3", { text: t("case.photos") }), h("div", { class: "photos" }, media.map((u) => h("a", { href: u, target: "_blank", rel: "noopener" }, h("img", { src: u, alt: "", loading: "lazy" }))))) : null,
      actions, actionBox,
      h("h3", { text: t("case.timeline") }), tl.length ? h("ol", { class: "timeline" }, tl) : h("p", { class: "muted", text: t("empty") }),
      (d.supervisions || []).length ? h("div", {}, h("h3", { text: t("case.supervisions") }), h("ul", { class: "list" }, d.supervisions.map((s) =>
        h("li", {}, h("div", { text: s.note || "" }), h("div", { class: "meta", text: `${s.leader || ""} · ${fmtTime(s.at, i18n.lang)} · ${t("case.deadline")} ${fmtTime(s.deadline, i18n.lang)}` }))))) : null,
      (d.escalations || []).length ? h("div", {}, h("h3", { text: t("case.escalations") }), h("ul", { class: "list" }, d.escalations.map((s) =>
        h("li", {}, h("div", { text: `${s.from_level || ""} → ${s.to_level || ""}` }), h("div", { class: "meta", text: `${s.reason || ""} ${fmtTime(s.at, i18n.lang)}` }))))) : null);
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
      reload(); state.refresh?.();
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
      reload(); state.refresh?.();
    } catch (x) { toast(x.message, "error"); }
  } }, h("label", {}, h("span", { text: t("dispatch.department") }), depts.length ? sel : free),
  h("label", {}, h("span", { text: t("dispatch.note") }), note),
  h("button", { class: "primary", type: "submit", text: t("case.dispatch") })));
}

async function escalate(c, reload) {
  try {
    await api.command.escalate(c.case_id, { note: "", expected_version: c.version });
    toast(t("escalate.done"));
    reload(); state.refresh?.();
  } catch (x) { toast(x.message, "error"); }
}

// ---------- live
function startLive() {
  state.stop?.();
  let pending = null;
  const soon = () => { clearTimeout(pending); pending = setTimeout(() => state.refresh?.(), 400); };
  state.stop = live({
    open: api.live.cases({ jurisdiction: state.code }),
    onState: setLive,
    onEvent: (type, data) => {
      if (type === "ping" || type === "hello") return;
      if (type === "case.created" && data?.title) toast(t("new.case", { t: data.title }));
      soon();
    },
    pollMs: 5000,
    poll: async () => { state.refresh?.(); },
  });
}

boot();
