// Citizen snapshot report (市民随手拍): locate, category, describe, photos, submit, follow, rate.
// Light: no chart library unless the citizen chooses to pick the place on the map.
import { createApi } from "../common/api/client.js";
import cases from "../common/api/cases.js";
import categories from "../common/api/categories.js";
import grids from "../common/api/grids.js";
import media from "../common/api/media.js";
import reports from "../common/api/reports.js";
import { h, mount, $, fmtTime, toast, uuid } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, section, statusChip } from "../common/shell.js";
import { picker, upload } from "../common/photos.js";
import { loadECharts, keyedByCode } from "../common/map.js";
import STRINGS from "./strings.js";

const i18n = createI18n(STRINGS);
const t = i18n.t;
const api = createApi("citizen", i18n, { cases, categories, grids, media, reports });
const MINE = "yw.citizen.reports";
const bar = topbar(i18n, api, { onLogout: () => render() });
mount($("#bar"), bar);
const state = { tab: "report", where: null, grid: null };

function mine() { try { return JSON.parse(localStorage.getItem(MINE) || "[]"); } catch { return []; } }
function remember(r) { localStorage.setItem(MINE, JSON.stringify([r, ...mine()].slice(0, 50))); }

function render() {
  bar.refresh();
  const tabs = h("nav", { class: "tabs", role: "tablist" }, ["report", "mine"].map((k) => h("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === k), "data-i18n": `tab.${k}`, dataset: { tab: k },
    onclick: () => { state.tab = k; render(); },
  })));
  const body = h("div");
  mount($("#app"), tabs, body);
  (state.tab === "report" ? reportForm : myReports)(body);
  i18n.apply($("#app"));
}
i18n.onChange(() => render());

// ---------- report
async function reportForm(body) {
  const whereText = h("p", { class: "small", id: "where" });
  const mapBox = h("div", { class: "map", hidden: true });
  const showWhere = () => {
    if (!state.where) { whereText.textContent = ""; return; }
    whereText.textContent = t("located", { lat: state.where.lat.toFixed(5), lon: state.where.lon.toFixed(5) })
      + (state.grid ? ` · ${t("grid", { g: state.grid })}` : "");
  };
  const setWhere = async (lat, lon) => {
    state.where = { lat, lon };
    state.grid = null;
    showWhere();
    try {
      const r = await api.grids.locate({ lat, lon });
      if (r.inside === false) toast(t("outside"), "error");
      const chain = r.chain || [];
      state.grid = chain.length ? chain[chain.length - 1].name || r.grid_code : r.grid_code;
      showWhere();
    } catch { /* located without the grid name */ }
  };
  const locateBtn = h("button", { type: "button", class: "primary", "data-i18n": "locate", onclick: () => {
    if (!navigator.geolocation) { toast(t("locate.failed"), "error"); return; }
    whereText.textContent = t("locating");
    navigator.geolocation.getCurrentPosition(
      (p) => setWhere(p.coords.latitude, p.coords.longitude),
      () => { whereText.textContent = ""; toast(t("locate.failed"), "error"); },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  } });
  const mapBtn = h("button", { type: "button", "data-i18n": "tap.map", onclick: () => pickOnMap(mapBox, setWhere) });
  const cat = h("select", { name: "category", required: true });
  const attrBox = h("div", { class: "stack" });  // the chosen category's questions
  let catalogue = [];
  const renderAttributes = () => {
    const c = catalogue.find((x) => x.code === cat.value);
    const fields = (c?.attributes || []).filter((a) => a.variable !== false)
      .sort((a, b) => (a.order || 0) - (b.order || 0));
    mount(attrBox, fields.map((a) => {
      const label = i18n.pick(a.description_zh || a.code, a.description_en || a.code);
      const input = (a.values || []).length
        ? h("select", { name: `attr_${a.code}`, "data-attr": a.code, required: !!a.required },
          [h("option", { value: "", text: "—" }),
            ...a.values.map((v) => h("option", { value: v.key, text: i18n.pick(v.name_zh || v.key, v.name_en || v.key) }))])
        : h("input", { name: `attr_${a.code}`, "data-attr": a.code, required: !!a.required, maxlength: 200 });
      return h("label", {}, h("span", { text: a.required ? `${label} *` : label }), input);
    }));
  };
  cat.addEventListener("change", renderAttributes);
  const desc = h("textarea", { name: "description", required: true, minlength: 2, maxlength: 2000, "data-i18n-placeholder": "description.ph" });
  const address = h("input", { name: "address", maxlength: 200 });
  const photos = picker(i18n);
  const cname = h("input", { name: "contact_name", maxlength: 50, autocomplete: "name" });
  const cphone = h("input", { name: "contact_phone", type: "tel", inputmode: "numeric", pattern: "1[3-9][0-9]{9}", autocomplete: "tel" });
  const anon = h("input", { type: "checkbox", name: "anonymous" });
  const submit = h("button", { class: "primary", type: "submit", "data-i18n": "submit" });
  const idem = uuid();
  const form = h("form", { class: "stack", id: "report-form", onsubmit: async (e) => {
    e.preventDefault();
    if (!state.where) { toast(t("need.location"), "error"); return; }
    if (!cat.value) { toast(t("need.category"), "error"); return; }
    submit.disabled = true;
    submit.textContent = t("submitting");
    try {
      const media = [];
      if (photos.files().length) {
        toast(t("photos.uploading"));
        // anonymous citizens upload with a short-lived upload token (no sign-in: no token, no upload)
        const up = api.signedIn ? {} : { "X-Upload-Token": (await api.media.uploadToken()).upload_token };
        for (const f of photos.files()) media.push(String(await upload((form) => api.media.upload(form, up), f)));
      }
      const contact = cname.value.trim() || cphone.value.trim()
        ? { name: cname.value.trim() || null, phone: cphone.value.trim() || null } : null;
      const r = await api.reports.file({
        category: cat.value, description: desc.value.trim(), lat: state.where.lat, lon: state.where.lon,
        attributes: Object.fromEntries([...attrBox.querySelectorAll("[data-attr]")]
          .filter((el) => el.value.trim()).map((el) => [el.dataset.attr, el.value.trim()])),
        address: address.value.trim() || null, media, contact, anonymous: anon.checked,
      }, idem);
      remember({ report_id: r.report_id, at: new Date().toISOString(), description: desc.value.trim().slice(0, 80), category: cat.selectedOptions[0]?.textContent || cat.value, photos: media.length });
      toast(t("submitted", { id: String(r.report_id).slice(0, 8) }));
      state.tab = "mine";
      render();
    } catch (x) {
      toast(x.message, "error");
      submit.disabled = false;
      submit.textContent = t("submit");
    }
  } },
  h("div", { class: "card stack" }, h("h3", { "data-i18n": "where" }), h("div", { class: "row" }, locateBtn, mapBtn), whereText, mapBox),
  h("div", { class: "card stack" },
    h("label", {}, h("span", { "data-i18n": "category" }), cat),
    attrBox,
    h("label", {}, h("span", { "data-i18n": "description" }), desc),
    h("label", {}, h("span", { "data-i18n": "address" }), address),
    h("div", {}, h("span", { class: "small muted", "data-i18n": "photos" }), photos.el)),
  h("div", { class: "card stack" },
    h("label", {}, h("span", { "data-i18n": "contact.name" }), cname),
    h("label", {}, h("span", { "data-i18n": "contact.phone" }), cphone),
    h("label", { class: "row" }, anon, h("span", { "data-i18n": "anonymous" }))),
  submit);
  mount(body, form);
  showWhere();
  // categories
  const opts = [h("option", { value: "", "data-i18n": "category.pick" })];
  try {
    const res = await api.categories.list();
    const list = Array.isArray(res) ? res : res.items || res.categories || [];
    catalogue = list;
    const leaves = list.filter((c) => c.active !== false && !c.group && c.citizen_selectable !== false && !list.some((o) => o.code?.startsWith(`${c.code}.`)));
    for (const c of leaves) opts.push(h("option", { value: c.code, text: i18n.pick(c.name_zh || c.name, c.name_en) }));
  } catch (x) { toast(x.message, "error"); }
  mount(cat, opts);
  i18n.apply(form);
}

async function pickOnMap(box, setWhere) {
  box.hidden = false;
  if (box.dataset.ready) return;
  box.dataset.ready = "1";
  mount(box, h("p", { class: "muted", text: t("loading") }));
  try {
    const [echarts, fc] = await Promise.all([loadECharts(), api.grids.boundaries({ levels: "street", simplify_m: 50, precision: 5 })]);
    const { geo } = keyedByCode(fc);
    box.replaceChildren();
    echarts.registerMap("yw-citizen", geo);
    const c = echarts.init(box);
    let mark = null;
    c.setOption({ geo: { map: "yw-citizen", roam: true, itemStyle: { areaColor: "#eef1f6", borderColor: "#9aa3b5" }, emphasis: { disabled: true } },
      series: [{ type: "scatter", coordinateSystem: "geo", symbolSize: 16, itemStyle: { color: "#c8102e" }, data: [] }] });
    c.getZr().on("click", (e) => {
      const pt = c.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
      if (!pt) return;
      mark = [pt[0], pt[1]];
      c.setOption({ series: [{ data: [mark] }] });
      setWhere(pt[1], pt[0]);
    });
    box.before(h("p", { class: "small muted", text: t("tap.hint") }));
  } catch (x) { mount(box, h("p", { class: "error", text: x.message })); }
}

// ---------- my reports
function myReports(body) {
  const list = h("ul", { class: "list", id: "my-reports" });
  const signInBox = h("div");
  mount(body, list, signInBox);
  const reports = mine();
  if (!reports.length) { mount(list, h("li", { class: "muted", text: t("mine.empty") })); }
  for (const r of reports) {
    const li = h("li", { dataset: { reportId: r.report_id } });
    list.append(li);
    section(li, i18n, () => reportCard(r, li));
  }
  if (!api.signedIn) {
    signInBox.append(h("button", { type: "button", class: "link", "data-i18n": "rate.sign_in", onclick: async () => {
      await signIn(signInBox, i18n, api, { roles: ["citizen"], demo: "demo_citizen", phone: true });
      render();
    } }));
  }
}

async function reportCard(r) {
  const s = await api.reports.get(r.report_id);
  const status = s.case_status || (s.state === "pending" ? "pending" : s.state);
  const wrap = h("div", { class: "stack" },
    h("div", { class: "title", text: r.description }),
    h("div", {}, statusChip(i18n, status), h("span", { class: "small muted", text: t(`state.${s.state}`) })),
    h("div", { class: "meta", text: `${r.category} · ${fmtTime(r.at, i18n.lang)}` }));
  if (s.case_id && api.signedIn) {
    try {
      const d = await api.cases.get(s.case_id);
      const tl = d.timeline || d.progress || [];
      if (tl.length) {
        wrap.append(h("h3", { "data-i18n": "progress" }), h("ol", { class: "timeline" }, tl.map((e) =>
          h("li", {}, h("div", { text: e.status ? t(`status.${e.status}`) : (e.action || e.type || "") }),
            h("div", { class: "meta", text: fmtTime(e.at, i18n.lang) }), e.note ? h("div", { text: e.note }) : null))));
      }
    } catch { /* progress is optional */ }
  }
  if (s.case_id && (s.case_status === "closed")) wrap.append(rating(s.case_id));
  i18n.apply(wrap);
  return wrap;
}

function rating(caseId) {
  let score = 0;
  const stars = h("div", { class: "stars", role: "radiogroup" });
  const draw = () => stars.replaceChildren(...[1, 2, 3, 4, 5].map((n) => h("button", {
    type: "button", class: n <= score ? "on" : "", "aria-label": String(n), text: "★", dataset: { score: n },
    onclick: () => { score = n; draw(); },
  })));
  draw();
  const comment = h("input", { name: "comment", maxlength: 500, "data-i18n-placeholder": "rate.comment" });
  return h("form", { class: "stack", onsubmit: async (e) => {
    e.preventDefault();
    if (!api.signedIn) { toast(t("rate.sign_in"), "error"); return; }
    if (!score) return;
    try {
      const cur = await api.cases.get(caseId);
      await api.cases.rate(caseId, { score, comment: comment.value.trim(), expected_version: cur.version });
      toast(t("rate.done"));
      render();
    } catch (x) { toast(x.message, "error"); }
  } }, h("h3", { "data-i18n": "rate" }), stars, comment, h("button", { class: "primary", type: "submit", "data-i18n": "submit" }));
}

render();
