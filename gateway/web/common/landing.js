import { h, mount, $ } from "./dom.js";
import { createI18n, withCommon } from "./i18n.js";

const i18n = createI18n(withCommon({
  "zh-CN": {
    "app.name": "一网", "app.title": "一网 · 党群一张网",
    intro: "市民、网格员、党员志愿者、企业和干部在一张网上上报、派遣、处置、督办、评价。",
    dashboard: "领导驾驶舱", "dashboard.d": "决策指挥 · 一键督办",
    citizen: "市民随手拍", "citizen.d": "拍照上报 · 跟踪进度 · 评价",
    worker: "网格员", "worker.d": "我的网格 · 巡查 · 核查",
    workbench: "案件工作台", "workbench.d": "受理 · 派遣 · 办理 · 核查 · 结案",
    volunteer: "志愿服务", "volunteer.d": "点单 · 接单 · 扫码签到 · 微心愿",
    enterprise: "企业服务", "enterprise.d": "企业版 · 政府版 · 机构版",
    admin: "系统管理", "admin.d": "类别 · 规则 · 部门 · 账号",
    api: "接口文档", "api.d": "OpenAPI",
  },
  en: {
    "app.name": "Yiwang", "app.title": "Yiwang · one network",
    intro: "Citizens, grid workers, volunteers, enterprises and officials report, dispatch, handle, supervise and evaluate on one network.",
    dashboard: "Leaders' dashboard", "dashboard.d": "Command · one-key supervision",
    citizen: "Snapshot report", "citizen.d": "Report with photos · follow · rate",
    worker: "Grid worker", "worker.d": "My grid · patrols · verification",
    workbench: "Case workbench", "workbench.d": "Accept · dispatch · handle · verify · close",
    volunteer: "Volunteers", "volunteer.d": "Order · claim · scan in · wishes",
    enterprise: "Enterprise", "enterprise.d": "Enterprise · government · institution",
    admin: "Administration", "admin.d": "Categories · rules · departments · accounts",
    api: "API docs", "api.d": "OpenAPI",
  },
}));

const apps = [["citizen", "/citizen/"], ["dashboard", "/dashboard/"], ["worker", "/worker/"],
  ["workbench", "/workbench/"], ["volunteer", "/volunteer/"], ["enterprise", "/enterprise/"], ["admin", "/admin/"], ["api", "/docs"]];
mount($("#bar"), h("header", { class: "topbar" },
  h("span", { class: "brand" }, h("span", { class: "logo" }, "一"), h("span", { "data-i18n": "app.name" })),
  h("span", { class: "spacer" }), i18n.switcher()));
mount($("#apps"), apps.map(([k, href]) => h("a", { href },
  h("strong", { "data-i18n": k }), h("span", { "data-i18n": `${k}.d` }))));
i18n.apply();
