// Enterprise app in three editions (企业版 / 政府版 / 机构版) over the enterprise API:
// problem demands, bank–enterprise financing, talent, technical support, policies, key projects.
import { createApi } from "../common/api/client.js";
import enterprise from "../common/api/enterprise.js";
import { h, mount, $, fmtTime, toast } from "../common/dom.js";
import { createI18n } from "../common/i18n.js";
import { topbar, signIn, section } from "../common/shell.js";
import STRINGS from "./strings.js";

const i18n = createI18n(STRINGS);
const t = i18n.t;
const api = createApi("enterprise", i18n, { enterprise });
const GOV = ["leader", "city_staff", "district_staff", "street_staff", "department_handler", "admin"];
const EDITION_TABS = {
  enterprise: ["demands", "policies", "financing", "jobs", "tech", "me"],
  institution: ["financing", "tech", "jobs", "policies", "me"],
  government: ["demands", "projects", "enterprises", "financing", "policies"],
};
const CATS = ["power_supply", "land", "approval", "financing", "talent", "environment", "other"];
const state = { edition: "enterprise", tab: "demands" };
const items = (p) => (Array.isArray(p) ? p : p?.items || p?.results || []);
const first = (o, ...keys) => { for (const k of keys) if (o?.[k] !== undefined && o[k] !== null && o[k] !== "") return o[k]; return ""; };

const bar = topbar(i18n, api, { onLogout: () => location.reload() });
mount($("#bar"), bar);
api.onLogout(() => location.reload());

async function boot() {
  let account = api.account;
  if (account) { try { account = await api.me(); } catch { account = null; } }
  if (!account) account = await signIn($("#app"), i18n, api, { roles: ["enterprise_user", "institution_user", ...GOV], demo: "demo_enterprise" });
  state.edition = account.role === "enterprise_user" ? "enterprise" : account.role === "institution_user" ? "institution" : "government";
  state.tab = EDITION_TABS[state.edition][0];
  bar.refresh();
  render();
}

function render() {
  const tabs = h("nav", { class: "tabs", role: "tablist" }, EDITION_TABS[state.edition].map((k) => h("button", {
    type: "button", role: "tab", "aria-selected": String(state.tab === k), "data-i18n": `tab.${k}`, dataset: { tab: k },
    onclick: () => { state.tab = k; render(); },
  })));
  const body = h("div");
  mount($("#app"), h("p", { class: "small muted", "data-i18n": `edition.${state.edition}` }), tabs, body);
  TABS[state.tab](body);
  i18n.apply($("#app"));
}
i18n.onChange(() => render());

/** load: () => a page or list from api.enterprise */
function genericList(el, load, { title, extra } = {}) {
  section(el, i18n, async () => {
    const list = items(await load());
    if (!list.length) return null;
    return h("div", {}, title ? h("h3", { text: t(title) }) : null, h("ul", { class: "list" }, list.map((x) => h("li", {},
      h("div", { class: "title", text: first(x, "title", "name", "product_name", "description", "category") }),
      h("div", {}, x.status ? h("span", { class: `chip ${x.overdue || x.warning ? "bad" : ""}`, text: x.status }) : null,
        x.category ? h("span", { class: "chip", text: t(`cat.${x.category}`) === `cat.${x.category}` ? x.category : t(`cat.${x.category}`) }) : null),
      x.description && x.title ? h("div", { class: "small", text: String(x.description).slice(0, 200) }) : null,
      h("div", { class: "meta", text: [first(x, "enterprise_name", "institution_name", "owner", "department"), fmtTime(first(x, "created_at", "filed_at", "published_at", "posted_at"), i18n.lang)].filter(Boolean).join(" · ") }),
      extra ? extra(x) : null))));
  });
}

function demands(body) {
  const listEl = h("section");
  if (state.edition === "enterprise") {
    const cat = h("select", { name: "category" }, CATS.map((c) => h("option", { value: c, text: t(`cat.${c}`) })));
    const title = h("input", { name: "title", maxlength: 200 });
    const desc = h("textarea", { name: "description", required: true, maxlength: 5000 });
    const urg = h("select", { name: "urgency" }, ["normal", "urgent", "complex"].map((u) => h("option", { value: u, text: t(`urgency.${u}`) })));
    body.append(h("form", { class: "card stack", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api.enterprise.fileDemand({ category: cat.value, title: title.value.trim() || null, description: desc.value.trim(), urgency: urg.value, attachments: [] });
        toast(t("demand.filed")); render();
      } catch (x) { toast(x.message, "error"); }
    } }, h("h3", { "data-i18n": "demand.file" }),
    h("label", {}, h("span", { "data-i18n": "demand.category" }), cat), h("label", {}, h("span", { "data-i18n": "demand.title" }), title),
    h("label", {}, h("span", { "data-i18n": "demand.description" }), desc), h("label", {}, h("span", { "data-i18n": "demand.urgency" }), urg),
    h("button", { class: "primary", type: "submit", "data-i18n": "submit" })));
    body.append(listEl);
    genericList(listEl, () => api.enterprise.myDemands(), { extra: (d) => (d.status === "answered" ? rate(d) : null) });
  } else {
    body.append(listEl);
    genericList(listEl, () => api.enterprise.demands({ page_size: 50 }));
  }
}

function rate(d) {
  const score = h("select", { name: "score" }, [5, 4, 3, 2, 1].map((n) => h("option", { value: n, text: "★".repeat(n) })));
  return h("form", { class: "row", onsubmit: async (e) => {
    e.preventDefault();
    try { await api.enterprise.rateDemand(d.demand_id, { score: Number(score.value), expected_version: d.version }); toast(t("demand.rated")); render(); } catch (x) { toast(x.message, "error"); }
  } }, h("span", { class: "small muted", text: t("demand.rate") }), score, h("button", { type: "submit", text: t("submit") }));
}

const TABS = {
  demands,
  policies(body) {
    const a = h("section"); const b = h("section"); body.append(a, b);
    if (state.edition === "enterprise") genericList(a, () => api.enterprise.myPolicies(), { title: "eligible" });
    genericList(b, () => api.enterprise.policies());
  },
  financing(body) {
    const a = h("section"); const b = h("section"); body.append(a, b);
    genericList(a, () => api.enterprise.financingNeeds(), { title: "needs" });
    genericList(b, () => api.enterprise.financingProducts(), { title: "products" });
  },
  jobs(body) { genericList(body, () => api.enterprise.jobs()); },
  tech(body) {
    const a = h("section"); const b = h("section"); body.append(a, b);
    genericList(a, () => api.enterprise.techNeeds());
    genericList(b, () => api.enterprise.capabilities(), { title: "capabilities" });
  },
  projects(body) {
    genericList(body, () => api.enterprise.projects(), { extra: (p) => {
      const steps = p.steps || [];
      const done = steps.filter((s) => s.status === "approved" || s.approved_at).length;
      return steps.length ? h("div", { class: "meta", text: `${t("progress")} ${done}/${steps.length}` }) : null;
    } });
  },
  enterprises(body) { genericList(body, () => api.enterprise.enterprises()); },
  me(body) {
    section(body, i18n, async () => {
      const me = await (state.edition === "institution" ? api.enterprise.myInstitution() : api.enterprise.me());
      return h("div", { class: "card stack" }, h("h2", { text: first(me, "name", "title") }),
        h("p", { class: "small muted", text: [first(me, "uscc", "kind"), first(me, "status"), first(me, "district_code", "industry")].filter(Boolean).join(" · ") }));
    });
  },
};

boot();
