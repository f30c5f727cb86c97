// One dictionary per app ({"zh-CN": {...}, en: {...}}), zh-CN first, English available.
import { h } from "./dom.js";

const KEY = "yw.lang";
export const LANGS = ["zh-CN", "en"];

export function createI18n(dict) {
  let lang = localStorage.getItem(KEY);
  if (!LANGS.includes(lang)) lang = "zh-CN";
  const listeners = new Set();
  const i18n = {
    get lang() { return lang; },
    t(key, vars) {
      let s = dict[lang]?.[key] ?? dict["zh-CN"]?.[key] ?? key;
      if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
      return s;
    },
    /** a label from a {zh, en} pair, or a dictionary key, or the raw text */
    pick(zh, en) { return lang === "en" ? (en || zh || "") : (zh || en || ""); },
    set(next) {
      if (!LANGS.includes(next)) return;
      lang = next;
      localStorage.setItem(KEY, next);
      document.documentElement.lang = next;
      i18n.apply();
      for (const fn of listeners) fn(next);
    },
    onChange(fn) { listeners.add(fn); },
    apply(root = document) {
      for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = i18n.t(el.dataset.i18n);
      for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = i18n.t(el.dataset.i18nPlaceholder);
      for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = i18n.t(el.dataset.i18nTitle);
      if (dict[lang]?.["app.title"]) document.title = dict[lang]["app.title"];
    },
    switcher() {
      const b = h("button", { class: "lang", type: "button", "aria-label": "Language / 语言" });
      const label = () => { b.textContent = lang === "en" ? "中文" : "EN"; };
      b.addEventListener("click", () => { i18n.set(lang === "en" ? "zh-CN" : "en"); label(); });
      label();
      return b;
    },
  };
  document.documentElement.lang = lang;
  return i18n;
}

// Strings every app uses (merged under each app's own dictionary).
export const COMMON = {
  "zh-CN": {
    "login.title": "登录", "login.username": "用户名", "login.password": "密码",
    "login.submit": "登录", "login.phone": "手机号", "login.code": "验证码",
    "login.send_code": "获取验证码", "login.with_phone": "手机验证码登录",
    "login.with_password": "账号密码登录", "login.demo": "演示账号：{u} / yiwang-demo",
    "logout": "退出", "loading": "加载中…", "empty": "暂无数据", "retry": "重试",
    "error.network": "网络异常，请稍后重试", "error.session": "登录已过期，请重新登录",
    "error.forbidden": "该账号无权使用本页面", "ok": "确定", "cancel": "取消", "back": "返回",
    "refresh": "刷新", "submit": "提交", "save": "保存", "more": "更多",
    "status.submitted": "已提交", "status.accepted": "已受理", "status.rejected": "不予受理",
    "status.dispatched": "已派遣", "status.in_progress": "处置中", "status.handled": "已处置",
    "status.verified": "已核查", "status.closed": "已结案", "status.evaluated": "已评价",
    "status.awaiting_info": "待补充", "status.community_review": "社区复核",
    "status.forwarded": "已转办", "status.merged": "已合并", "status.pending": "处理中",
    "level.city": "市", "level.district": "区县", "level.street": "街道", "level.community": "社区",
    "level.grid": "网格",
  },
  en: {
    "login.title": "Sign in", "login.username": "Username", "login.password": "Password",
    "login.submit": "Sign in", "login.phone": "Phone", "login.code": "Code",
    "login.send_code": "Send code", "login.with_phone": "Sign in with a phone code",
    "login.with_password": "Sign in with a password", "login.demo": "Demo account: {u} / yiwang-demo",
    "logout": "Sign out", "loading": "Loading…", "empty": "Nothing here yet", "retry": "Retry",
    "error.network": "Network error, please retry", "error.session": "Session expired, please sign in again",
    "error.forbidden": "This account may not use this page", "ok": "OK", "cancel": "Cancel", "back": "Back",
    "refresh": "Refresh", "submit": "Submit", "save": "Save", "more": "More",
    "status.submitted": "Submitted", "status.accepted": "Accepted", "status.rejected": "Rejected",
    "status.dispatched": "Dispatched", "status.in_progress": "In progress", "status.handled": "Handled",
    "status.verified": "Verified", "status.closed": "Closed", "status.evaluated": "Evaluated",
    "status.awaiting_info": "Awaiting info", "status.community_review": "Community review",
    "status.forwarded": "Forwarded", "status.merged": "Merged", "status.pending": "Pending",
    "level.city": "City", "level.district": "District", "level.street": "Street", "level.community": "Community",
    "level.grid": "Grid",
  },
};

export function withCommon(dict) {
  return { "zh-CN": { ...COMMON["zh-CN"], ...dict["zh-CN"] }, en: { ...COMMON.en, ...dict.en } };
}
