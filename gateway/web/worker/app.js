// Grid worker handheld page: my grid, my tasks, patrol start/stop with GPS, findings with
// photos, verification of handled cases.
import { createApi } from "../common/api/client.js";
import cases from "../common/api/cases.js";
import categories from "../common/api/categories.js";
import command from "../common/api/command.js";
import grids from "../common/api/grids.js";
import media from "../common/api/media.js";
import { h, mount, $, fmtTime, toast, uuid } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, section, statusChip } from "../common/shell.js";
import { picker, upload } from "../common/photos.js";
import { loadECharts, keyedByCode } from "../common/map.js";
import STRINGS from "./strings.js";

const i18n = createI18n(STRINGS);
const t = i18n.t;
const api = createApi("worker", i18n, { cases, categories, command, grids, media });
const TASK_STATUSES = ["dispatched", "in_progress"];
const PATROL_KEY = "yw.worker.patrol";
const state = { tab: "tasks", me: null, grids: [], names: {}, gps: null, watch: null, buffer: [], flush: null, charts: [] };

const bar = topbar(i18n, api, { onLogout: () => location.reload() });
mount($("#bar"), bar);
api.onLogout(() => location.reload());

async function boot() {
  let account = api.account;
  if (account) { try { account = await api.me(); } catch { account = null; } }
  if (!account || account.role !== "grid_worker") account = await signIn($("#app"), i18n, api, { roles: ["grid_worker"], demo: "demo_grid", phone: true });
  bar.refresh();
  try { state.me = await api.grids.myWorker(); } catch { state.me = null; }
  state.grids = Object.keys(state.me?.grids || {});
  if (!state.grids.length && account.jurisdiction_code?.length === 15) state.grids = [account.jurisdiction_code];
  await Promise.all(state.grids.map(async (g) => {
    try { state.names[g] = (await api.grids.unit(g)).name; } catch { /* code only */ }
  }));
  if (localStorage.getItem(PATROL_KEY)) { state.tab = "patrol"; resumePatrol(); }
  render();
}

function render() {
  bar.refresh();
  for (const c of state.charts) c.dispose();
  state.charts = [];
  const tabs = h("nav", { class: "tabs", role: "tablist" }, ["tasks", "verify", "patrol", "grid"].map((k) => h("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === k), "data-i18n": `tab.${k}`, dataset: { tab: k },
    onclick: () => { state.tab = k; render(); },
  })));
  const body = h("div");
  mount($("#app"), tabs, body);
  ({ tasks, verify, patrol, grid })[state.tab](body);
  i18n.apply($("#app"));
}
i18n.onChange(() => render());
const gname = (g) => state.names[g] || g;
const items = (p) => (Array.isArray(p) ? p : p?.items || []);

// ---------- cases
async function casesOf(statuses) {
  const out = [];
  for (const g of state.grids) {
    for (const s of statuses) out.push(...items(await api.command.cases({ jurisdiction: g, status: s, page_size: 50 })));
  }
  return out;
}

function caseCard(c, actions) {
  const box = h("div", { class: "stack" });
  const note = h("input", { name: "note", maxlength: 2000, "data-i18n-placeholder": "act.note" });
  const photos = picker(i18n, { label: "act.photos" });
  const act = async (action) => {
    try {
      const attachments = [];
      for (const f of photos.files()) attachments.push(String(await upload(api.media.upload, f)));
      let version = c.version;
      try { const d = await api.cases.get(c.case_id); version = d.version ?? d.case?.version ?? version; } catch { /* use the list's */ }
      // each lifecycle action names its text field (petitions' case_action fields)
      const textField = { handle: "feedback", fail_verification: "reason" }[action] || "note";
      const fields = { [textField]: note.value.trim() || t(`act.${action}`) };
      if (attachments.length && action !== "start") fields.attachments = attachments;
      const body = { action, expected_version: version, fields };
      await api.cases.act(c.case_id, body);
      toast(t("act.done"));
      render();
    } catch (x) { toast(x.message, "error"); }
  };
  // (Element.append writes a null child as the text "null": leave absent parts out)
  box.append(...[
    h("div", { class: "title", text: c.title || c.description || c.category }),
    h("div", {}, statusChip(i18n, c.status), c.overdue ? h("span", { class: "chip bad", text: "!" }) : null),
    h("div", { class: "meta", text: `${c.category} · ${gname(c.grid_code)} · ${fmtTime(c.created_at, i18n.lang)}${c.deadline ? ` → ${fmtTime(c.deadline, i18n.lang)}` : ""}` }),
    c.description && c.description !== "null" && c.description !== c.title ? h("div", { class: "small", text: c.description }) : null,
  ].filter(Boolean));
  if (actions.length) {
    box.append(note, photos.el, h("div", { class: "row" }, actions.map(([a, cls]) =>
      h("button", { type: "button", class: cls, "data-i18n": `act.${a}`, dataset: { action: a }, onclick: () => act(a) }))));
  }
  return h("li", { dataset: { caseId: c.case_id } }, box);
}

function tasks(body) {
  section(body, i18n, async () => {
    const list = await casesOf(TASK_STATUSES);
    if (!list.length) return h("p", { class: "muted", "data-i18n": "tasks.empty", text: t("tasks.empty") });
    const ul = h("ul", { class: "list", id: "tasks" }, list.map((c) => caseCard(c,
      c.status === "dispatched" ? [["start", "primary"]] : [["handle", "primary"]])));
    i18n.apply(ul);
    return ul;
  });
}

function verify(body) {
  section(body, i18n, async () => {
    const list = await casesOf(["handled"]);
    if (!list.length) return h("p", { class: "muted", text: t("verify.empty") });
    const ul = h("ul", { class: "list", id: "verify" }, list.map((c) => caseCard(c, [["verify", "primary"], ["fail_verification", "warn"]])));
    i18n.apply(ul);
    return ul;
  });
}

// ---------- my grid
function grid(body) {
  if (!state.grids.length) { mount(body, h("p", { class: "muted", text: t("grid.none") })); return; }
  for (const g of state.grids) {
    const mapBox = h("div", { class: "map" });
    const card = h("section", { class: "card stack" }, h("h2", { text: gname(g) }), h("p", { class: "small muted", text: g }), mapBox);
    body.append(card);
    (async () => {
      try {
        const [echarts, fc] = await Promise.all([loadECharts(), api.grids.boundaries({ jurisdiction: g, levels: "grid", precision: 6 })]);
        const { geo } = keyedByCode(fc);
        if (!geo.features.length) { mapBox.hidden = true; return; }
        echarts.registerMap(`yw-grid-${g}`, geo);
        const c = echarts.init(mapBox);
        state.charts.push(c);
        c.setOption({ series: [{ type: "map", map: `yw-grid-${g}`, roam: true, label: { show: false }, selectedMode: false,
          itemStyle: { areaColor: "#fdecee", borderColor: "#c8102e" }, emphasis: { disabled: true } }] });
      } catch { mapBox.hidden = true; }
    })();
    if (state.me?.name) card.append(h("p", { text: `${t("grid.workers")}: ${state.me.name}` }));
  }
}

// ---------- patrol
function patrolState() { try { return JSON.parse(localStorage.getItem(PATROL_KEY) || "null"); } catch { return null; } }

function startGps(onFix) {
  if (!navigator.geolocation) { toast(t("patrol.gps_off"), "error"); return; }
  state.watch = navigator.geolocation.watchPosition((p) => {
    state.gps = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy, at: new Date(p.timestamp || Date.now()).toISOString() };
    state.buffer.push(state.gps);
    onFix?.();
  }, () => toast(t("patrol.gps_off"), "error"), { enableHighAccuracy: true, maximumAge: 5000, timeout: 20000 });
  state.flush = setInterval(flushPoints, 15000);
}
async function flushPoints() {
  const p = patrolState();
  if (!p || !state.buffer.length) return;
  const points = state.buffer.splice(0, 5000);
  try { await api.grids.patrolPoints(p.patrol_id, { points }); } catch { state.buffer.unshift(...points); }
}
function stopGps() {
  if (state.watch !== null) navigator.geolocation.clearWatch(state.watch);
  clearInterval(state.flush);
  state.watch = null;
}
function resumePatrol() { if (state.watch === null) startGps(() => updateStatus?.()); }
let updateStatus = null;

function patrol(body) {
  const p = patrolState();
  if (!p) {
    const sel = h("select", { name: "grid" }, state.grids.map((g) => h("option", { value: g, text: gname(g) })));
    mount(body, h("div", { class: "card stack" }, h("label", {}, h("span", { "data-i18n": "patrol.grid" }), sel),
      h("button", { class: "primary", type: "button", "data-i18n": "patrol.start", dataset: { action: "patrol-start" }, onclick: async () => {
        try {
          const r = await api.grids.startPatrol({ grid_code: sel.value, patrol_id: uuid() });
          localStorage.setItem(PATROL_KEY, JSON.stringify({ patrol_id: r.patrol_id, grid_code: r.grid_code, started_at: r.started_at }));
          startGps(() => updateStatus?.());
          render();
        } catch (x) { toast(x.message, "error"); }
      } })));
    return;
  }
  const status = h("p", { class: "small", id: "patrol-status" });
  updateStatus = () => {
    status.textContent = `${t("patrol.running")} · ${gname(p.grid_code)} · ${fmtTime(p.started_at, i18n.lang)}`
      + (state.gps ? ` · ${state.gps.lat.toFixed(5)}, ${state.gps.lon.toFixed(5)}` : ` · ${t("finding.need_gps")}`);
  };
  updateStatus();
  resumePatrol();
  mount(body, h("div", { class: "card stack" }, status,
    h("button", { class: "warn", type: "button", "data-i18n": "patrol.end", dataset: { action: "patrol-end" }, onclick: async () => {
      await flushPoints();
      try {
        const r = await api.grids.endPatrol(p.patrol_id, {});
        toast(`${t("patrol.ended")} · ${t("patrol.distance", { m: Math.round(r.distance_m || 0) })}`);
      } catch (x) { toast(x.message, "error"); }
      stopGps();
      localStorage.removeItem(PATROL_KEY);
      render();
    } })), findingForm(p));
}

function findingForm(p) {
  const cat = h("select", { name: "category", required: true }, h("option", { value: "", text: t("category.pick") }));
  const desc = h("textarea", { name: "description", required: true, maxlength: 2000 });
  const photos = picker(i18n);
  const fid = uuid();
  api.categories.list().then((res) => {
    const list = Array.isArray(res) ? res : res.items || res.categories || [];
    for (const c of list.filter((c) => !c.group && c.active !== false && !list.some((o) => o.code?.startsWith(`${c.code}.`)))) cat.append(h("option", { value: c.code, text: i18n.pick(c.name_zh || c.name, c.name_en) }));
  }).catch(() => {});
  const form = h("form", { class: "card stack", id: "finding-form", onsubmit: async (e) => {
    e.preventDefault();
    if (!state.gps) { toast(t("finding.need_gps"), "error"); return; }
    try {
      const urls = [];
      for (const f of photos.files()) urls.push(String(await upload(api.media.upload, f)));
      await api.grids.finding(p.patrol_id, {
        finding_id: fid, category: cat.value, description: desc.value.trim(), lat: state.gps.lat, lon: state.gps.lon, photos: urls,
      }, fid);
      toast(t("finding.done"));
      render();
    } catch (x) { toast(x.message, "error"); }
  } }, h("h3", { "data-i18n": "finding" }),
  h("label", {}, h("span", { "data-i18n": "finding.category" }), cat),
  h("label", {}, h("span", { "data-i18n": "finding.description" }), desc),
  h("div", {}, h("span", { class: "small muted", "data-i18n": "finding.photos" }), photos.el),
  h("button", { class: "primary", type: "submit", "data-i18n": "submit" }));
  return form;
}

boot();
