// Volunteer service: residents order (点单) and rate (评单), show the check-in QR code;
// volunteers and units claim (接单) and check in by scanning it (扫码签到); staff review;
// the wish tree (微心愿); points.
import { createApi } from "../common/api/client.js";
import grids from "../common/api/grids.js";
import volunteers from "../common/api/volunteers.js";
import { h, mount, $, fmtTime, toast } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, section } from "../common/shell.js";
import STRINGS from "./strings.js";

const i18n = createI18n(STRINGS);
const t = i18n.t;
const api = createApi("volunteer", i18n, { grids, volunteers });
const CATS = ["companion", "repair", "cleaning", "tutoring", "medical", "legal", "other"];
const RESIDENTS = ["citizen", "volunteer"];
const CLAIMERS = ["volunteer", "citizen", "enterprise_user", "institution_user"];
const STAFF = ["community_staff", "street_staff", "admin"];
const state = { tab: null, account: null, community: "", gps: null };

const bar = topbar(i18n, api, { onLogout: () => location.reload() });
mount($("#bar"), bar);
api.onLogout(() => location.reload());
const items = (p) => (Array.isArray(p) ? p : p?.items || []);
const ost = (s) => h("span", { class: `chip ${s === "rated" ? "ok" : s === "rejected" ? "bad" : ""}`, text: t(`ost.${s}`) });

function tabsFor(role) {
  const out = [];
  if (RESIDENTS.includes(role)) out.push("order", "mine");
  if (CLAIMERS.includes(role)) out.push("hall", "claimed");
  if (STAFF.includes(role)) out.push("review");
  out.push("wishes");
  if (CLAIMERS.includes(role)) out.push("points");
  return out;
}

async function boot() {
  let account = api.account;
  if (account) { try { account = await api.me(); } catch { account = null; } }
  if (!account) account = await signIn($("#app"), i18n, api, { demo: "demo_volunteer", phone: true });
  state.account = account;
  if (account.jurisdiction_code?.length === 12) state.community = account.jurisdiction_code;
  state.tab = tabsFor(account.role)[0];
  bar.refresh();
  render();
}

function render() {
  const tabs = h("nav", { class: "tabs", role: "tablist" }, tabsFor(state.account.role).map((k) => h("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === k), "data-i18n": `tab.${k}`, dataset: { tab: k },
    onclick: () => { stopScan(); state.tab = k; render(); },
  })));
  const body = h("div");
  mount($("#app"), tabs, body);
  ({ order, mine, hall, claimed, review, wishes, points })[state.tab](body);
  i18n.apply($("#app"));
}
i18n.onChange(() => render());

function here() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition((p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => resolve(null), { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });
}

// ---------- resident: order
function localInput(d) {
  const z = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
  return z.toISOString().slice(0, 16);
}
function order(body) {
  const cat = h("select", { name: "category" }, CATS.map((c) => h("option", { value: c, text: t(`cat.${c}`) })));
  const desc = h("textarea", { name: "description", required: true, maxlength: 2000 });
  const addr = h("input", { name: "address", maxlength: 200 });
  const comm = h("input", { name: "community_code", required: true, pattern: "[0-9]{12}", inputmode: "numeric", value: state.community });
  const from = h("input", { name: "window_start", type: "datetime-local", value: localInput(new Date(Date.now() + 3600e3)) });
  const to = h("input", { name: "window_end", type: "datetime-local", value: localInput(new Date(Date.now() + 3 * 3600e3)) });
  const locate = h("button", { type: "button", "data-i18n": "order.locate", onclick: async () => {
    state.gps = await here();
    if (!state.gps) return;
    try {
      const r = await api.grids.locate(state.gps);
      const c = (r.chain || []).find((u) => u.level === "community" || String(u.code).length === 12);
      if (c) { comm.value = c.code; state.community = c.code; }
    } catch (x) { toast(x.message, "error"); }
  } });
  mount(body, h("form", { class: "card stack", id: "order-form", onsubmit: async (e) => {
    e.preventDefault();
    const gps = state.gps || (await here()) || { lat: 0, lon: 0 };
    try {
      await api.volunteers.placeOrder({
        community_code: comm.value.trim(), category: cat.value, description: desc.value.trim(), address: addr.value.trim(),
        window_start: new Date(from.value).toISOString(), window_end: new Date(to.value).toISOString(), lat: gps.lat, lon: gps.lon,
      });
      toast(t("order.placed"));
      state.tab = "mine"; render();
    } catch (x) { toast(x.message, "error"); }
  } },
  h("label", {}, h("span", { "data-i18n": "order.category" }), cat),
  h("label", {}, h("span", { "data-i18n": "order.description" }), desc),
  h("label", {}, h("span", { "data-i18n": "order.address" }), addr),
  h("div", { class: "row" }, h("label", { class: "grow" }, h("span", { "data-i18n": "order.community" }), comm), locate),
  h("div", { class: "row" }, h("label", { class: "grow" }, h("span", { "data-i18n": "order.from" }), from),
    h("label", { class: "grow" }, h("span", { "data-i18n": "order.to" }), to)),
  h("button", { class: "primary", type: "submit", "data-i18n": "submit" })));
}

function orderLi(o, ...extra) {
  return h("li", { dataset: { orderId: o.order_id } },
    h("div", { class: "title", text: o.description }),
    h("div", {}, ost(o.status), h("span", { class: "chip", text: t(`cat.${o.category}`) })),
    h("div", { class: "meta", text: `${o.address || o.community_code} · ${fmtTime(o.window_start, i18n.lang)} – ${fmtTime(o.window_end, i18n.lang)}` }),
    ...extra);
}

function listOrders(body, query, extras) {
  section(body, i18n, async () => {
    const list = items(await api.volunteers.orders({ page_size: 50, ...query }));
    if (!list.length) return h("p", { class: "muted", text: t("empty.orders") });
    return h("ul", { class: "list" }, list.map((o) => orderLi(o, ...extras(o))));
  });
}

function mine(body) {
  listOrders(body, { mine: "ordered" }, (o) => {
    const out = [];
    if (o.status === "claimed") out.push(qrButton(o));
    if (o.status === "completed") out.push(rateForm(o));
    if (o.stars) out.push(h("div", { class: "meta", text: "★".repeat(o.stars) }));
    return out;
  });
}

function qrButton(o) {
  const box = h("div");
  return h("div", { class: "stack" }, h("button", { type: "button", "data-i18n": "order.qr", text: t("order.qr"), dataset: { action: "qr" }, onclick: async () => {
    try {
      const q = await api.volunteers.qr(o.order_id);
      await import("./qr.js").then(({ qrCanvas }) => mount(box, h("p", { class: "small muted", text: t("order.qr.hint") }),
        qrCanvas(q.token), h("p", { class: "small", style: { overflowWrap: "anywhere" }, text: q.token, dataset: { token: "1" } })));
    } catch (x) { toast(x.message, "error"); }
  } }), box);
}

function rateForm(o) {
  let stars = 0;
  const row = h("div", { class: "stars" });
  const draw = () => row.replaceChildren(...[1, 2, 3, 4, 5].map((n) => h("button", { type: "button", class: n <= stars ? "on" : "", text: "★", "aria-label": String(n), onclick: () => { stars = n; draw(); } })));
  draw();
  const comment = h("input", { name: "comment", maxlength: 500 });
  return h("form", { class: "stack", onsubmit: async (e) => {
    e.preventDefault();
    if (!stars) return;
    try { await api.volunteers.rate(o.order_id, { stars, comment: comment.value.trim() }); toast(t("order.rated")); render(); } catch (x) { toast(x.message, "error"); }
  } }, h("span", { class: "small muted", text: t("order.rate") }), row, comment, h("button", { class: "primary", type: "submit", text: t("submit") }));
}

// ---------- volunteers: hall, claimed, check-in
function hall(body) {
  listOrders(body, { jurisdiction: state.community }, (o) => [h("button", { type: "button", class: "primary", text: t("claim"), dataset: { action: "claim" }, onclick: async () => {
    try { await api.volunteers.claim(o.order_id, { expected_version: o.version }); toast(t("claimed")); state.tab = "claimed"; render(); } catch (x) { toast(x.message, "error"); }
  } })]);
}

function claimed(body) {
  listOrders(body, { mine: "claimed" }, (o) => {
    if (o.status === "claimed") return [checkIn(o)];
    if (o.status === "checked_in") return [completeForm(o)];
    return [];
  });
}

let scanning = null;
function stopScan() { scanning?.(); scanning = null; }

function checkIn(o) {
  const code = h("input", { name: "token", "data-i18n-placeholder": "checkin.manual", placeholder: t("checkin.manual") });
  const video = h("video", { class: "scan", playsinline: "", muted: "", hidden: true });
  const send = async (token) => {
    const gps = (await here()) || { lat: o.lat, lon: o.lon };
    try {
      await api.volunteers.checkIn(o.order_id, { token: token.trim(), lat: gps.lat, lon: gps.lon });
      stopScan(); toast(t("checkin.done")); render();
    } catch (x) { toast(x.message, "error"); }
  };
  const scan = h("button", { type: "button", class: "primary", text: t("checkin.scan"), dataset: { action: "scan" }, onclick: async () => {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) { toast(t("checkin.no_camera"), "error"); code.focus(); return; }
    try {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream; video.hidden = false; await video.play();
      let alive = true;
      scanning = () => { alive = false; stream.getTracks().forEach((tr) => tr.stop()); video.hidden = true; };
      const tick = async () => {
        if (!alive) return;
        try {
          const found = await detector.detect(video);
          if (found.length) { const v = found[0].rawValue; stopScan(); send(v); return; }
        } catch { /* next frame */ }
        setTimeout(tick, 250);
      };
      tick();
    } catch { toast(t("checkin.no_camera"), "error"); }
  } });
  return h("form", { class: "stack", onsubmit: (e) => { e.preventDefault(); if (code.value.trim()) send(code.value); } },
    h("div", { class: "row" }, scan), video, h("div", { class: "row" }, h("span", { class: "grow" }, code),
      h("button", { type: "submit", text: t("checkin"), dataset: { action: "checkin" } })));
}

function completeForm(o) {
  const note = h("input", { name: "note", required: true, maxlength: 2000, placeholder: t("complete.note") });
  return h("form", { class: "row", onsubmit: async (e) => {
    e.preventDefault();
    try { await api.volunteers.complete(o.order_id, { note: note.value.trim(), photos: [] }); toast(t("complete.done")); render(); } catch (x) { toast(x.message, "error"); }
  } }, h("span", { class: "grow" }, note), h("button", { class: "primary", type: "submit", text: t("complete") }));
}

// ---------- staff review
function review(body) {
  listOrders(body, { status: "ordered", jurisdiction: "" }, (o) => {
    const reason = h("input", { name: "reason", maxlength: 500, placeholder: t("reject.reason") });
    return [h("div", { class: "row" },
      h("button", { type: "button", class: "primary", text: t("publish"), onclick: async () => {
        try { await api.volunteers.publish(o.order_id, { expected_version: o.version }); render(); } catch (x) { toast(x.message, "error"); }
      } }), h("span", { class: "grow" }, reason),
      h("button", { type: "button", text: t("reject"), onclick: async () => {
        try { await api.volunteers.reject(o.order_id, { reason: reason.value.trim() || "-", expected_version: o.version }); render(); } catch (x) { toast(x.message, "error"); }
      } }))];
  });
}

// ---------- wish tree
function wishes(body) {
  const comm = h("input", { name: "community_code", pattern: "[0-9]{12}", inputmode: "numeric", value: state.community, placeholder: t("order.community") });
  const tree = h("div");
  const load = () => {
    if (!/^[0-9]{12}$/.test(comm.value)) return;
    state.community = comm.value;
    section(tree, i18n, async () => {
      const w = await api.volunteers.wishes(comm.value);
      const leaves = w.leaves || [];
      if (!leaves.length) return null;
      return h("ul", { class: "list", id: "wish-tree" }, leaves.map((x) => h("li", { dataset: { wishId: x.wish_id } },
        h("div", { class: "title", text: `🍃 ${x.title}` }),
        h("div", {}, h("span", { class: `chip ${x.status === "lit" ? "ok" : ""}`, text: t(`wst.${x.status}`) })),
        h("div", { class: "small", text: x.description }),
        h("div", { class: "meta", text: `${x.beneficiary} · ${fmtTime(x.posted_at, i18n.lang)}` }),
        x.status === "verified" && CLAIMERS.includes(state.account.role) ? h("button", { type: "button", class: "primary", text: t("wish.claim"), onclick: async () => {
          try { await api.volunteers.claimWish(x.wish_id); toast(t("wish.claimed")); load(); } catch (e) { toast(e.message, "error"); }
        } }) : null)));
    });
  };
  const title = h("input", { name: "title", required: true, maxlength: 100 });
  const who = h("input", { name: "beneficiary", required: true, maxlength: 64 });
  const desc = h("textarea", { name: "description", required: true, maxlength: 1000 });
  const post = h("form", { class: "card stack", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api.volunteers.makeWish({ community_code: comm.value, title: title.value.trim(), beneficiary: who.value.trim(), description: desc.value.trim() });
      toast(t("wish.posted")); load();
    } catch (x) { toast(x.message, "error"); }
  } }, h("h3", { "data-i18n": "wish.post" }),
  h("label", {}, h("span", { "data-i18n": "wish.title" }), title),
  h("label", {}, h("span", { "data-i18n": "wish.beneficiary" }), who),
  h("label", {}, h("span", { "data-i18n": "wish.description" }), desc),
  h("button", { class: "primary", type: "submit", "data-i18n": "submit" }));
  mount(body, h("div", { class: "card row" }, h("label", { class: "grow" }, h("span", { "data-i18n": "wish.tree" }), comm),
    h("button", { type: "button", text: "↻", onclick: load })), tree, post);
  load();
}

function points(body) {
  section(body, i18n, async () => {
    const b = await api.volunteers.myPoints();
    return h("div", { class: "kpis" }, h("div", { class: "kpi ok" }, h("div", { class: "v", text: b.balance }), h("div", { class: "l", text: t("points.balance") })));
  });
}

boot();
