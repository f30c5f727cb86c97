// The case workbench (案件工作台): the queue of the signed-in unit or department, one case
// with its timeline, SLA clock and only the actions the API allows now; every action waits
// for the server's answer and shows a refusal's reason (RFC 9457 detail_zh) as it is.
import { h, mount, fmtTime, toast } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, statusChip } from "../common/shell.js";
import { picker, shrink } from "../common/photos.js";
import { createApi } from "./api.js";
import strings from "./strings.js";

const i18n = createI18n(strings);
const api = createApi(i18n);
const t = (k, v) => i18n.t(k, v);

const STAFF = ["community_staff", "street_staff", "district_staff", "city_staff"];
const ROLES = [...STAFF, "department_handler"];
const PAGE_SIZE = 20;
// Tabs: each is one documented filter of the command case list.
const TAB_FILTERS = {
  submitted: { status: "submitted" }, accepted: { status: "accepted" }, dispatched: { status: "dispatched" },
  in_progress: { status: "in_progress" }, handled: { status: "handled" }, verified: { status: "verified" },
  overdue: { overdue: "true" }, supervised: { supervised: "true" }, all: {},
  // 回访: closed hotline cases wait for the return call (the callers rate on the phone)
  return_visit: { source: "hotline", status: "closed" },
};
const STAFF_TABS = ["submitted", "accepted", "dispatched", "in_progress", "handled", "verified", "overdue", "supervised", "return_visit", "all"];
const DEPT_TABS = ["dispatched", "in_progress", "overdue", "supervised", "all"];
// Lifecycle actions the workbench offers a form for, in the order shown; the API's
// allowed_actions (the case read) decides which of them appear.
const UI_ACTIONS = ["accept", "reject", "dispatch", "reassign", "start", "handle", "verify", "fail_verification",
  "close", "send_back", "conclude_review", "review_rework", "request_info", "return_visit"];
const PRIMARY = new Set(["accept", "dispatch", "start", "handle", "verify", "close", "conclude_review"]);
// Open statuses in which the command centre's escalation applies (lifecycle OPEN set).
const OPEN = new Set(["submitted", "accepted", "dispatched", "in_progress", "handled", "verified", "awaiting_info"]);
const ESCALATORS = new Set([...STAFF, "department_handler"]);

const state = {
  me: null, tabs: [], tab: "", category: "", q: "", page: 1, items: [], next: null, total: null,
  counts: {}, cats: new Map(), depts: new Map(), units: new Map(),
  caseId: null, kase: null, cmd: null, busy: false, formOpen: false, pending: false, live: false,
};

const bar = topbar(i18n, api);
// signed out (the button, or a session that could not be refreshed): back to the sign-in
api.onLogout(() => {
  if (!state.me) return;
  state.me = null;
  start();
});
document.getElementById("bar").replaceWith(bar);
const root = document.getElementById("app");
let stopLive = null;
let pollTimer = null;

// --- names, never codes ------------------------------------------------------------------
function catName(code) {
  const c = state.cats.get(code);
  return c ? i18n.pick(c.name_zh, c.name_en) : t("unknown");
}
function deptName(code) {
  if (!code) return t("none");
  const d = state.depts.get(code);
  return d ? i18n.pick(d.name_zh, d.name_en) : t("unknown");
}
function unit(code) {
  if (!code) return Promise.resolve(null);
  if (!state.units.has(code)) state.units.set(code, api.unit(code).catch(() => null));
  return state.units.get(code);
}
/** "幸福社区 · 第1网格": the grid's name with its community's, filled in when known */
function placeName(code) {
  const el = h("span", { class: "place", text: "…" });
  unit(code).then(async (u) => {
    if (!u) { el.textContent = t("unknown"); return; }
    const parent = u.level === "grid" ? await unit(u.parent_code) : null;
    el.textContent = parent ? `${parent.name} · ${u.name}` : u.name;
  });
  return el;
}
/** who a supervision names: a department, or a unit by its code */
function handlerName(code) {
  if (state.depts.has(code) || !/^[0-9]+$/.test(String(code || ""))) return deptName(code);
  return placeName(code);
}
const ymd = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });
/** a readable case number: the report day (Beijing time) and the first six hex digits */
function caseNo(c) {
  const d = c.created_at ? new Date(c.created_at) : null;
  const day = d && !Number.isNaN(d.getTime()) ? ymd.format(d).replace(/-/g, "") : "";
  return `${day}-${String(c.case_id || "").replace(/-/g, "").slice(0, 6).toUpperCase()}`;
}
function duration(ms) {
  const m = Math.max(1, Math.round(Math.abs(ms) / 60000));
  if (m >= 1440) return t("dur.d", { n: Math.floor(m / 1440) }) + (m % 1440 >= 60 ? t("dur.h", { n: Math.floor((m % 1440) / 60) }) : "");
  if (m >= 60) return t("dur.h", { n: Math.floor(m / 60) });
  return t("dur.m", { n: m });
}
function short(text, n = 48) {
  const s = String(text || "").trim();
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
function mediaUrl(ref) {
  const s = String(ref || "");
  return s.startsWith("/") ? s : api.media.href(s);
}
function photos(list) {
  if (!list?.length) return null;
  return h("div", { class: "photos" }, list.map((m) => h("a", { href: mediaUrl(m), target: "_blank", rel: "noopener" },
    h("img", { src: mediaUrl(m), alt: t("case.photos"), loading: "lazy" }))));
}
function slaChip(row) {
  if (!row) return null;
  if (row.overdue || row.sla_state === "overdue") return h("span", { class: "chip bad", text: t("sla.state.overdue") });
  if (row.sla_state === "warning") return h("span", { class: "chip warn", text: t("sla.state.warning") });
  return null;
}

// --- start: sign in, reference data, the two panes -------------------------------------
async function start() {
  stopLive?.(); stopLive = null; clearInterval(pollTimer);
  state.caseId = null; state.kase = null;
  bar.refresh();
  if (!api.signedIn) {
    await signIn(root, i18n, api, { roles: ROLES, demo: "demo_community" });
  }
  let me;
  try {
    me = await api.me();
  } catch (e) {
    if (e.status === 401 || e.status === 403) { await api.logout(); start(); return; }
    mount(root, h("p", { class: "error", role: "alert", text: t("error.load", { m: e.message }) }),
      h("button", { type: "button", text: t("retry"), onclick: start }));
    return;
  }
  if (!ROLES.includes(me.role)) { await api.logout(); start(); return; }
  state.me = { ...api.account, ...me };
  bar.refresh();
  state.tabs = me.role === "department_handler" ? DEPT_TABS : STAFF_TABS;
  if (!state.tabs.includes(state.tab)) state.tab = state.tabs[0];
  mount(root, h("p", { class: "muted", text: t("loading") }));
  try {
    const [cats, depts] = await Promise.all([api.categories(), api.departments()]);
    state.cats = new Map((cats.items || []).map((c) => [c.code, c]));
    state.depts = new Map((depts.items || []).map((d) => [d.code, d]));
  } catch (e) {
    mount(root, h("p", { class: "error", role: "alert", text: t("error.load", { m: e.message }) }),
      h("button", { type: "button", text: t("retry"), onclick: start }));
    return;
  }
  layout();
  await Promise.all([loadQueue(true), loadCounts()]);
  route();
  if (me.role === "department_handler") {
    // the live stream is not open to department handlers
    pollTimer = setInterval(() => { refreshAll(); }, 20000);
    setLive(null);
  } else {
    stopLive = api.live(onLiveEvent, setLive);
  }
}

let wb, queuePane, casePane, tabsEl, listEl, headEl, liveEl;
function layout() {
  tabsEl = h("nav", { class: "tabs", role: "tablist" });
  listEl = h("ul", { class: "list", id: "queue" });
  liveEl = h("span", { class: "live-state" });
  headEl = h("span", { class: "total" });
  const cat = h("select", { name: "category", "aria-label": t("filter.category"), onchange: (e) => { state.category = e.target.value; refreshAll(true); } },
    h("option", { value: "", text: t("filter.category") }),
    [...state.cats.values()].filter((c) => !c.group && c.active !== false)
      .map((c) => h("option", { value: c.code, text: i18n.pick(c.name_zh, c.name_en), selected: c.code === state.category })));
  let timer;
  const search = h("input", { type: "search", name: "q", value: state.q, placeholder: t("filter.search"), maxlength: 100,
    oninput: (e) => { clearTimeout(timer); timer = setTimeout(() => { state.q = e.target.value.trim(); refreshAll(true); }, 350); } });
  queuePane = h("section", { class: "pane queue-pane", "aria-label": t("app.title") },
    tabsEl, h("div", { class: "filters" }, cat, search), h("div", { class: "qhead" }, headEl, liveEl), listEl,
    h("div", { id: "more" }));
  casePane = h("section", { class: "pane case-pane", id: "case-pane" });
  wb = h("div", { class: "wb" }, queuePane, casePane);
  mount(root, wb);
  renderTabs();
}

function setLive(on) {
  state.live = on;
  if (!liveEl) return;
  if (on === null) mount(liveEl, h("span", { class: "live" }), t("queue.poll"));
  else mount(liveEl, h("span", { class: `live${on ? " on" : ""}` }), t(on ? "queue.live.on" : "queue.live.off"));
}

function tabLabel(tab) {
  return t(tab === "dispatched" && state.me?.role === "department_handler" ? "tab.dispatched.dept" : `tab.${tab}`);
}
function renderTabs() {
  mount(tabsEl, state.tabs.map((tab) => {
    const n = state.counts[tab];
    const hot = (tab === "overdue" || tab === "supervised") && n && n.total > 0;
    return h("button", { type: "button", role: "tab", class: hot ? "hot" : "", "data-tab": tab, "aria-selected": String(tab === state.tab),
      onclick: () => { if (state.tab !== tab) { state.tab = tab; renderTabs(); loadQueue(true); } } },
    tabLabel(tab), n ? h("span", { class: "n", "data-count": tab, text: n.exact ? String(n.total) : `${n.total}+` }) : null);
  }));
}

function filters(tab, extra = {}) {
  return { ...TAB_FILTERS[tab], category: state.category, q: state.q, ...extra };
}

async function loadCounts() {
  const out = await Promise.all(state.tabs.map((tab) => api.listCases(filters(tab, { page_size: 1 }))
    .then((r) => [tab, { total: r.total, exact: r.total_exact !== false }]).catch(() => [tab, null])));
  state.counts = Object.fromEntries(out.filter(([, v]) => v));
  renderTabs();
}

let queueSeq = 0;
async function loadQueue(reset) {
  const seq = ++queueSeq;
  if (reset) { state.page = 1; state.items = []; mount(listEl, h("li", { class: "muted", text: t("loading") })); }
  let r;
  try {
    r = await api.listCases(filters(state.tab, { page: state.page, page_size: PAGE_SIZE }));
  } catch (e) {
    if (seq !== queueSeq) return;
    mount(listEl, h("li", {}, h("p", { class: "error", role: "alert", text: e.message }),
      h("button", { type: "button", text: t("retry"), onclick: () => loadQueue(true) })));
    return;
  }
  if (seq !== queueSeq) return;
  state.items = reset ? r.items : [...state.items, ...r.items];
  state.next = r.next_cursor;
  state.total = r;
  renderQueue();
}

function renderQueue() {
  const r = state.total;
  headEl.textContent = r ? (r.total_exact === false ? t("queue.total.more", { n: r.total }) : t("queue.total", { n: r.total })) : "";
  if (!state.items.length) {
    const filtered = !!(state.category || state.q);
    mount(listEl, h("li", { class: "empty", "data-empty": state.tab },
      h("strong", { text: t(filtered ? "queue.empty.filtered" : "queue.empty") }),
      filtered
        ? h("button", { type: "button", class: "link", text: t("filter.clear"), onclick: () => {
          state.category = ""; state.q = "";
          queuePane.querySelector("select[name=category]").value = "";
          queuePane.querySelector("input[name=q]").value = "";
          refreshAll(true);
        } })
        : h("span", { class: "muted small", text: t("queue.empty.hint") })));
  } else {
    mount(listEl, state.items.map((c) => h("li", {
      class: `clickable case-item${c.case_id === state.caseId ? " sel" : ""}`, "data-case-id": c.case_id, tabindex: "0",
      onclick: () => { location.hash = `#case=${c.case_id}`; },
      onkeydown: (e) => { if (e.key === "Enter") location.hash = `#case=${c.case_id}`; },
    },
    h("div", { class: "top" }, h("span", { class: "title", text: c.title || catName(c.category) }), h("span", { class: "no", text: caseNo(c) })),
    h("div", {}, statusChip(i18n, c.status), slaChip(c), c.supervised ? h("span", { class: "chip warn", text: t("sla.supervised") }) : null),
    h("div", { class: "meta" }, h("span", { text: catName(c.category) }), placeName(c.grid_code),
      c.department ? h("span", { text: deptName(c.department) }) : null,
      h("span", { text: fmtTime(c.created_at, i18n.lang) })))));
  }
  const more = document.getElementById("more");
  mount(more, state.next ? h("button", { type: "button", class: "ghost", style: { width: "100%" }, text: t("queue.more"),
    onclick: (e) => { e.target.disabled = true; state.page += 1; loadQueue(false); } }) : null);
}

// Refreshes are throttled (trailing): a burst of live events costs one list read every
// 2 s and one round of tab counts every 6 s (the gateway limits requests per minute).
function throttled(fn, gap) {
  let last = 0; let timer = null;
  return (now = false) => {
    clearTimeout(timer);
    const wait = now ? 0 : Math.max(300, last + gap - Date.now());
    timer = setTimeout(() => { last = Date.now(); fn(); }, wait);
  };
}
const queueChanged = throttled(() => loadQueue(true), 2000);
const countsChanged = throttled(() => loadCounts(), 6000);
const caseChanged = throttled(() => { if (state.caseId && !state.busy) reloadCase(true); }, 800);

function refreshAll(reset = false) {
  queueChanged(reset);
  countsChanged(reset);
  if (!reset) caseChanged();
}

function onLiveEvent(type, change) {
  if (type !== "case" || !change || typeof change !== "object") return;
  queueChanged();
  countsChanged();
  if (change.case_id && change.case_id === state.caseId) caseChanged();
}

// --- the case page --------------------------------------------------------------------
function route() {
  const m = /^#case=([0-9a-f-]{36})$/i.exec(location.hash);
  const id = m ? m[1] : null;
  if (!wb) return;
  wb.classList.toggle("has-case", !!id);
  for (const li of listEl.querySelectorAll("li[data-case-id]")) li.classList.toggle("sel", li.dataset.caseId === id);
  if (!id) {
    state.caseId = null; state.kase = null; state.formOpen = false;
    mount(casePane, h("div", { class: "empty" }, h("span", { class: "muted", text: t("queue.pick") })));
    return;
  }
  if (id !== state.caseId) {
    state.caseId = id; state.kase = null; state.formOpen = false;
    mount(casePane, h("p", { class: "muted", text: t("loading") }));
    reloadCase(false);
  }
}
window.addEventListener("hashchange", route);

let caseSeq = 0;
async function reloadCase(fromLive) {
  const id = state.caseId;
  if (!id) return;
  if (fromLive && (state.busy || state.formOpen)) { state.pending = true; return; }
  const seq = ++caseSeq;
  let c, cmd;
  try {
    [c, cmd] = await Promise.all([api.getCase(id), api.getCommandCase(id).catch((e) => ({ error: e }))]);
  } catch (e) {
    if (seq !== caseSeq || id !== state.caseId) return;
    const last = state.lastDone;
    if (e.status === 403 && last && last.caseId === id && last.action === "escalate" && !last.error) {
      // escalated out of this unit's jurisdiction: the case is now the upper level's
      mount(casePane, backButton(), h("div", { class: "card" },
        h("p", { class: "ok-msg", role: "status", id: "act-error", "data-done": "escalate", text: `✓ ${t("done.escalate.away")}` })));
      return;
    }
    mount(casePane, backButton(), h("div", { class: "card" }, h("p", { class: "error", role: "alert", text: e.message }),
      h("button", { type: "button", text: t("retry"), onclick: () => reloadCase(false) })));
    return;
  }
  if (seq !== caseSeq || id !== state.caseId) return;
  // a form opened while this was loading: keep what the user is typing, show it after
  if (fromLive && (state.busy || state.formOpen)) { state.pending = true; return; }
  const changed = fromLive && state.kase && state.kase.version !== c.version;
  state.kase = c; state.cmd = cmd; state.pending = false;
  renderCase(changed);
}

function backButton() {
  return h("button", { type: "button", class: "ghost back", text: `← ${t("back.queue")}`, onclick: () => { location.hash = ""; } });
}

function renderCase(changed) {
  const c = state.kase;
  state.formOpen = false; // any open form is replaced
  const row = state.cmd && !state.cmd.error ? state.cmd.case : null;
  const cat = state.cats.get(c.category);
  const attrs = Object.entries(c.attributes || {}).map(([k, v]) => {
    const def = cat?.attributes?.find((a) => a.code === k);
    const val = def?.values?.find((x) => x.key === v);
    const label = def ? i18n.pick(def.description_zh, def.description_en) : null;
    if (!label) return null;
    return [h("dt", { text: label }), h("dd", { text: val ? i18n.pick(val.name_zh, val.name_en) : String(v ?? "") })];
  }).filter(Boolean);
  const rep = c.reporter || {};
  const reporter = rep.anonymous ? t("case.anonymous") : [rep.name, rep.phone].filter(Boolean).join(" ") || t("none");
  const facts = h("dl", { class: "facts" },
    h("dt", { text: t("case.category") }), h("dd", { text: catName(c.category) }),
    h("dt", { text: t("case.place") }), h("dd", {}, placeName(c.grid_code), c.address ? ` · ${c.address}` : null),
    h("dt", { text: t("case.source") }), h("dd", { text: t(`source.${c.source}`) }),
    h("dt", { text: t("case.created") }), h("dd", { text: fmtTime(c.created_at, i18n.lang) }),
    h("dt", { text: t("case.reporter") }), h("dd", { "data-reporter": "", text: reporter }),
    h("dt", { text: t("case.department") }), h("dd", { "data-department": c.department || "", text: deptName(c.department) }),
    attrs.flat());
  const left = h("div", {},
    h("div", { class: "card stack c-facts" }, facts,
      c.supporter_count ? h("p", { class: "muted small", text: t("case.supporters", { n: c.supporter_count }) }) : null),
    h("div", { class: "card stack c-desc" }, h("h3", { text: t("case.description") }),
      h("p", { class: "note", style: { whiteSpace: "pre-wrap", overflowWrap: "anywhere", margin: 0 }, text: c.description }),
      photos(c.media)),
    c.reject_reason ? h("div", { class: "card c-extra" }, h("h3", { text: t("case.reject_reason") }), h("p", { text: c.reject_reason })) : null,
    c.feedback ? h("div", { class: "card c-extra" }, h("h3", { text: t("case.feedback") }), h("p", { class: "note", text: c.feedback })) : null);
  const right = h("div", {}, slaCard(c, row), actionsCard(c, row), supervisionsCard(c), timelineCard(c));
  mount(casePane, backButton(),
    h("div", { class: "card case-head", "data-case-detail": c.case_id, "data-status": c.status, "data-version": String(c.version) },
      h("span", { class: "no", text: `${t("case.no")} ${caseNo(c)}` }),
      h("h1", { title: c.title || "", text: short(c.title) || catName(c.category) }),
      h("div", {}, statusChip(i18n, c.status), slaChip(row), row?.supervised ? h("span", { class: "chip warn", text: t("sla.supervised") }) : null)),
    changed ? h("p", { class: "banner", role: "status", text: t("case.updated") }) : null,
    h("div", { class: "case-cols" }, left, right));
}

function slaCard(c, row) {
  if (!row) return h("div", { class: "card c-sla" }, h("h3", { text: t("sla.title") }), h("p", { class: "muted", text: t("sla.unavailable") }));
  const running = OPEN.has(c.status) && row.deadline;
  const late = row.overdue || row.sla_state === "overdue";
  const stateKey = running ? (late ? "overdue" : row.sla_state || "on_time") : late ? "late" : "met";
  const due = row.deadline ? new Date(row.deadline) : null;
  const left = due ? due.getTime() - Date.now() : null;
  const big = !running ? t(`status.${c.status}`)
    : left >= 0 ? t("sla.remaining", { t: duration(left) }) : t("sla.overdue_by", { t: duration(left) });
  return h("div", { class: `card sla c-sla ${running ? stateKey : ""}`, "data-sla": stateKey },
    h("h3", { text: t("sla.title") }),
    h("div", { class: "big", text: big }),
    h("dl", { class: "facts" },
      h("dt", { text: t("sla.deadline") }), h("dd", { text: row.deadline ? fmtTime(row.deadline, i18n.lang) : t("none") }),
      row.warn_at ? [h("dt", { text: t("sla.warn_at") }), h("dd", { text: fmtTime(row.warn_at, i18n.lang) })] : null,
      c.status === "submitted" && row.accept_due ? [h("dt", { text: t("sla.accept_due") }), h("dd", { text: fmtTime(row.accept_due, i18n.lang) })] : null,
      h("dt", { text: t("sla.level") }), h("dd", {}, t(`level.${row.escalation_level || row.level || "grid"}`),
        row.escalation_count ? ` · ${t("sla.escalated", { n: row.escalation_count })}` : null),
      h("dt", { text: "" }), h("dd", {}, h("span", { class: `chip ${stateKey === "overdue" || stateKey === "late" ? "bad" : stateKey === "warning" ? "warn" : "ok"}`, text: t(`sla.state.${stateKey}`) }))));
}

// --- actions: only what the API allows, each waiting for the server ------------------------
function offeredActions(c, row) {
  const role = state.me.role;
  // a department acts only on the cases dispatched to it (the rule the gateway enforces on
  // case actions); the command centre's read of the case is refused for others
  if (role === "department_handler" && c.department !== state.me.department) return [];
  const allowed = new Set(c.allowed_actions || []);
  const out = UI_ACTIONS.filter((a) => allowed.has(a));
  // escalation (POST /command/cases/{id}/escalate) is not a lifecycle action: offered on open
  // cases below the city level to the roles the route allows
  if (ESCALATORS.has(role) && OPEN.has(c.status) && row && (row.escalation_level || row.level) !== "city") out.push("escalate");
  if (allowed.has("supervise") && row && !row.supervised) out.push("supervise");
  return out;
}

function actionsCard(c, row) {
  const acts = offeredActions(c, row);
  const formBox = h("div", { id: "act-form" });
  const msg = h("p", { class: "error", role: "alert", id: "act-error" });
  const last = state.lastDone;
  if (last && last.caseId === c.case_id && last.error) { // a refusal that made us re-read the case
    msg.dataset.code = last.code; msg.dataset.refused = last.action; msg.textContent = last.error;
  } else if (last && last.caseId === c.case_id) { // the server's confirmation stays until the next action
    msg.className = "ok-msg"; msg.setAttribute("role", "status"); msg.dataset.done = last.action;
    msg.textContent = `✓ ${t(`done.${last.action}`)}`;
  }
  const buttons = acts.map((a) => h("button", {
    type: "button", class: PRIMARY.has(a) ? "primary" : a === "reject" || a === "fail_verification" ? "warn" : "",
    "data-action": a, text: t(`act.${a}`),
    onclick: () => openForm(a, formBox, msg),
  }));
  return h("div", { class: "card c-actions", id: "actions" },
    h("h3", { text: t("case.actions") }),
    buttons.length ? h("div", { class: "actions" }, buttons) : h("p", { class: "muted", "data-no-actions": "", text: t("case.none_actions") }),
    formBox, msg);
}

function field(name, labelKey, { required = false, multiline = true } = {}) {
  const input = multiline
    ? h("textarea", { name, required, maxlength: 2000, rows: 3 })
    : h("input", { name, required, maxlength: 1000 });
  return { el: h("label", {}, h("span", { text: t(labelKey) }), input), input };
}

function openForm(action, box, msg, supervision = null) {
  if (state.busy) return;
  state.lastDone = null;
  msg.textContent = ""; msg.className = "error"; msg.setAttribute("role", "alert");
  delete msg.dataset.done; delete msg.dataset.refused; delete msg.dataset.code;
  state.formOpen = true;
  const c = state.kase;
  const parts = [];
  let note = null; let reason = null; let dept = null; let pics = null; let score = null;
  const needReason = ["reject", "send_back", "fail_verification"].includes(action);
  if (action === "dispatch" || action === "reassign") {
    dept = h("select", { name: "department", required: true },
      h("option", { value: "", text: t("form.pick_department") }),
      [...state.depts.values()].filter((d) => d.active !== false)
        .map((d) => h("option", { value: d.code, text: i18n.pick(d.name_zh, d.name_en) })));
    const hint = h("p", { class: "suggest", "data-suggest": "" });
    parts.push(h("label", {}, h("span", { text: t("form.department") }), dept), hint);
    api.suggestRoute({ category: c.category, jurisdiction_code: c.jurisdiction_code, source: c.source,
      at: new Date().toISOString(), attributes: c.attributes || {} })
      .then((r) => {
        if (r?.matched && r.target?.kind === "department" && state.depts.has(r.target.id)) {
          hint.textContent = t("form.suggest", { d: deptName(r.target.id) });
          if (!dept.value && r.target.id !== c.department) dept.value = r.target.id;
        } else hint.textContent = t("form.suggest.none");
      }).catch(() => { hint.textContent = t("form.suggest.none"); });
  }
  if (action === "return_visit") { // the caller's rating, given on the phone
    score = h("select", { name: "score", required: true }, h("option", { value: "", text: t("form.pick_score") }),
      [5, 4, 3, 2, 1].map((n) => h("option", { value: String(n), text: t(`score.${n}`) })));
    parts.push(h("label", {}, h("span", { text: t("form.score") }), score));
  }
  if (needReason) { reason = field("reason", "form.reason", { required: true }); parts.push(reason.el); }
  else if (action === "handle") { note = field("feedback", "form.feedback", { required: true }); parts.push(note.el); }
  else if (action === "request_info") { note = field("question", "form.question", { required: true }); parts.push(note.el); }
  else if (action === "supervise") { note = field("note", "form.supervise_note", { required: true }); parts.push(note.el); }
  else if (action === "answer") { note = field("text", "form.answer", { required: true }); parts.push(note.el); }
  else { note = field("note", "form.note"); parts.push(note.el); }
  if (["handle", "verify", "fail_verification", "answer"].includes(action)) {
    pics = picker(i18n, { label: "photos.add" });
    parts.push(h("div", {}, h("span", { class: "muted small", text: t("form.photos") }), pics.el));
  }
  const submit = h("button", { type: "submit", class: "primary", "data-submit": action, text: t("form.submit") });
  const cancel = h("button", { type: "button", class: "ghost", text: t("cancel"), onclick: () => {
    if (state.busy) return;
    state.formOpen = false; mount(box); msg.textContent = "";
    if (state.pending) reloadCase(true);
  } });
  const form = h("form", { class: "act-form stack", "data-form": action, onsubmit: (e) => {
    e.preventDefault();
    send(action, { note, reason, dept, pics, score, submit, cancel, msg, supervision });
  } }, h("h3", { text: t(`act.${action}`) }), parts, h("div", { class: "btns" }, cancel, submit));
  mount(box, form);
  i18n.apply(form);
  (dept || reason?.input || note?.input)?.focus();
}

async function send(action, f) {
  if (state.busy) return; // a second tap while one is in flight does nothing
  const c = state.kase;
  const text = (f.reason || f.note)?.input.value.trim() || "";
  if ((f.reason || ["handle", "request_info", "supervise", "answer"].includes(action)) && !text) {
    f.msg.textContent = t("form.required"); return;
  }
  if (f.dept && !f.dept.value) { f.msg.textContent = t("form.pick_department"); return; }
  if (f.score && !f.score.value) { f.msg.textContent = t("form.pick_score"); return; }
  state.busy = true;
  f.msg.textContent = "";
  const all = [...document.querySelectorAll("#actions button")];
  for (const b of all) b.disabled = true;
  const label = f.submit.textContent;
  f.submit.textContent = t("form.sending");
  f.submit.setAttribute("aria-busy", "true");
  try {
    let media = [];
    if (f.pics?.files().length) {
      f.submit.textContent = t("form.uploading");
      for (const file of f.pics.files()) {
        const up = await api.upload(await shrink(file));
        media.push(up.url || api.media.href(up.media_id));
      }
      f.submit.textContent = t("form.sending");
    }
    const viewVersion = state.cmd && !state.cmd.error ? state.cmd.case.version : undefined;
    if (action === "escalate") await api.escalate(c.case_id, text, viewVersion);
    else if (action === "supervise") await api.supervise(c.case_id, { note: text, expected_version: viewVersion });
    else if (action === "answer") {
      await api.answerSupervision(f.supervision.supervision_id,
        { kind: media.length ? "photo" : "text", text, media, ...(state.me.department ? { handler: state.me.department } : {}) });
    } else {
      const fields = {};
      if (action === "dispatch" || action === "reassign") { fields.department = f.dept.value; if (text) fields.note = text; }
      else if (f.reason) fields.reason = text;
      else if (action === "handle") fields.feedback = text;
      else if (action === "request_info") fields.question = text;
      else if (action === "return_visit") { fields.score = Number(f.score.value); if (text) fields.comment = text; }
      else if (text) fields.note = text;
      if (["handle", "verify", "fail_verification"].includes(action) && media.length) fields.attachments = media;
      const fresh = await api.act(c.case_id, action, c.version, fields);
      if (fresh && fresh.case_id === c.case_id) state.kase = fresh;
    }
    // the server confirmed: only now say so
    state.busy = false; state.formOpen = false;
    state.lastDone = { caseId: c.case_id, action };
    toast(t(`done.${action}`), "ok");
    await reloadCase(false);
    queueChanged(); countsChanged();
  } catch (e) {
    state.busy = false;
    if (e.status === 409 && e.code === "version_conflict") {
      // someone else changed the case meanwhile: show the server's reason with the case as it is now
      state.formOpen = false;
      state.lastDone = { caseId: c.case_id, action, error: e.message, code: e.code };
      await reloadCase(false);
      return;
    }
    f.msg.textContent = e.message;
    f.msg.dataset.code = e.code || "";
    f.submit.textContent = label;
    f.submit.removeAttribute("aria-busy");
    for (const b of all) b.disabled = false;
  }
}

function supervisionsCard(c) {
  const sups = state.cmd && !state.cmd.error ? state.cmd.supervisions || [] : [];
  if (!sups.length) return null;
  const me = state.me;
  const mine = (s) => (me.role === "department_handler" ? (s.handlers || []).includes(me.department)
    : (s.handlers || []).includes(me.jurisdiction_code));
  return h("div", { class: "card stack c-sup" }, h("h3", { text: t("sup.title") }), sups.map((s) => {
    const box = h("div");
    const msg = h("p", { class: "error", role: "alert" });
    const answered = (s.timeline || []).some((x) => x && (x.handler === me.department || x.handler === me.jurisdiction_code));
    return h("div", { class: "sup stack", "data-supervision": s.supervision_id },
      h("p", { class: "note", style: { margin: 0 }, text: s.note }),
      h("p", { class: "muted small", style: { margin: 0 } }, t("sup.deadline", { t: fmtTime(s.deadline, i18n.lang) }), " · ",
        (s.handlers || []).map((x, i) => [i ? "、" : null, handlerName(x)])),
      (s.timeline || []).length ? h("ul", { class: "list" }, s.timeline.map((x) => h("li", {},
        h("div", { class: "who" }, handlerName(x.handler), ` · ${fmtTime(x.at, i18n.lang)}`),
        x.text ? h("div", { class: "note", text: x.text }) : null, photos(x.media)))) : null,
      mine(s) && OPEN.has(c.status) && !answered
        ? h("button", { type: "button", "data-action": "answer", text: t("act.answer"), onclick: () => openForm("answer", box, msg, s) })
        : answered ? h("span", { class: "chip ok", text: t("sup.answered") }) : null,
      box, msg);
  }));
}

function actorLabel(e) {
  if (state.me && e.actor_id === state.me.account_id) return t("who.me", { n: state.me.display_name });
  if (e.role === "system" || e.actor_id === "system") return t("who.system");
  return t(`role.${e.role}`);
}

function timelineCard(c) {
  const entries = [...(c.timeline || [])].reverse();
  return h("div", { class: "card c-timeline" }, h("h3", { text: t("case.timeline") }),
    h("ol", { class: "timeline", id: "timeline" }, entries.map((e) => {
      const key = `tl.${e.action}`;
      const what = t(key) === key ? t("tl.other") : t(key);
      const dep = e.data?.department;
      const auto = (e.role === "system" || e.actor_id === "system") && /^rule /.test(e.note || "");
      const note = auto ? t("tl.auto_rule") : e.note;
      return h("li", { "data-action": e.action },
        h("div", { class: "what" }, what, dep ? ` · ${t("tl.to", { d: deptName(dep) })}` : null),
        h("div", { class: "who" }, actorLabel(e), " · ", fmtTime(e.at, i18n.lang), " · ", t(`status.${e.status}`)),
        note ? h("div", { class: "note", text: note }) : null,
        photos(e.attachments));
    })));
}

i18n.onChange(() => {
  bar.refresh();
  if (!state.me || !wb) return;
  layout();
  renderQueue();
  setLive(state.live);
  route();
  if (state.kase) renderCase(false);
});

start();
