// The gateway's REST API client: bearer tokens (refreshed once on 401), idempotency keys on
// every POST, RFC 9457 problem details turned into errors with zh-CN/English messages.
//
// Every path the web apps call is written once, as a literal, in this folder: an area module
// (cases.js, command.js, ...) exports `(call, stream) => ({ name: (...) => call(<method>,
// <path template>, { path, query, body, form, idem }) })`, method and template as string
// literals. tests/web/test_api_contract.py reads them and checks each against the gateway's
// API document; no app probes, guesses or downloads that document at run time.
import { uuid } from "../dom.js";

export class ApiError extends Error {
  constructor(status, problem, lang) {
    const msg = lang === "en"
      ? problem.detail || problem.title || `HTTP ${status}`
      : problem.detail_zh || problem.title_zh || problem.detail || `HTTP ${status}`;
    super(typeof msg === "string" ? msg : JSON.stringify(msg));
    this.status = status;
    this.code = problem.code || String(status);
    this.problem = problem;
  }
}

/**
 * createApi("citizen", i18n, { cases, reports }) -> api with api.cases.get(id), api.reports.file(body)...
 * (plus the account, sign-in and sign-out every app shares).
 */
export function createApi(app, i18n, areas = {}) {
  const KEY = `yw.auth.${app}`;
  let auth = null;
  try { auth = JSON.parse(localStorage.getItem(KEY) || "null"); } catch { auth = null; }
  const onLogout = new Set();

  function save(pair) {
    auth = pair ? { access: pair.access_token, refresh: pair.refresh_token, account: pair.account } : null;
    if (auth) localStorage.setItem(KEY, JSON.stringify(auth));
    else localStorage.removeItem(KEY);
  }

  async function raw(method, template, { path, body, query, form, idem, headers = {}, noAuth } = {}) {
    const url = withQuery(fill(template, path), query);
    const h = { Accept: "application/json", "Accept-Language": i18n.lang, ...headers };
    if (auth && !noAuth) h.Authorization = `Bearer ${auth.access}`;
    let payload;
    if (form) payload = form;
    else if (body !== undefined) { h["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    if (method === "POST") h["Idempotency-Key"] = idem || uuid();
    let res;
    try {
      res = await fetch(url, { method, headers: h, body: payload, credentials: "same-origin" });
    } catch (e) {
      throw new ApiError(0, { detail: i18n.t("error.network"), detail_zh: i18n.t("error.network"), code: "network" }, i18n.lang);
    }
    return res;
  }

  async function refresh() {
    if (!auth?.refresh) return false;
    const res = await raw("POST", "/api/v1/auth/refresh", { body: { refresh_token: auth.refresh }, noAuth: true });
    if (!res.ok) return false;
    save(await res.json());
    return true;
  }

  async function call(method, template, opts = {}) {
    let res = await raw(method, template, opts);
    if (res.status === 401 && auth && !opts.noAuth && (await refresh())) res = await raw(method, template, opts);
    if (res.status === 401 && auth && !opts.noAuth) {
      save(null);
      for (const fn of onLogout) fn();
    }
    if (res.status === 204) return null;
    const type = res.headers.get("content-type") || "";
    const data = type.includes("json") ? await res.json().catch(() => ({})) : await res.text();
    if (!res.ok) throw new ApiError(res.status, typeof data === "object" ? data : { detail: String(data) }, i18n.lang);
    return data;
  }

  /** a streamed GET (Server-Sent Events, read by common/live.js): its URL and headers now */
  function stream(method, template, { path, query } = {}) {
    return () => ({
      url: withQuery(fill(template, path), query),
      headers: { Accept: "text/event-stream", ...(auth ? { Authorization: `Bearer ${auth.access}` } : {}) },
    });
  }

  const api = {
    get account() { return auth?.account || null; },
    get token() { return auth?.access || null; },
    get signedIn() { return !!auth; },
    onLogout(fn) { onLogout.add(fn); },
    async login(username, password) {
      save(await call("POST", "/api/v1/auth/login", { body: { username, password }, noAuth: true }));
      return auth.account;
    },
    async otpRequest(phone) { return call("POST", "/api/v1/auth/otp/request", { body: { phone }, noAuth: true }); },
    async otpVerify(phone, code) {
      save(await call("POST", "/api/v1/auth/otp/verify", { body: { phone, code }, noAuth: true }));
      return auth.account;
    },
    async logout() {
      try { if (auth) await call("POST", "/api/v1/auth/logout"); } catch { /* already gone */ }
      save(null);
      for (const fn of onLogout) fn();
    },
    /** the account from /auth/me (also checks the stored token is still good) */
    async me() {
      const a = await call("GET", "/api/v1/auth/me");
      if (auth) { auth.account = { ...auth.account, ...a }; localStorage.setItem(KEY, JSON.stringify(auth)); }
      return a;
    },
  };
  for (const [name, area] of Object.entries(areas)) api[name] = area(call, stream);
  return api;
}

/** "/api/v1/cases/{case_id}" + { case_id: "x" } -> "/api/v1/cases/x" */
export function fill(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (_, k) => {
    if (params[k] === undefined || params[k] === null || params[k] === "") throw new Error(`missing path parameter ${k}`);
    return encodeURIComponent(params[k]);
  });
}

function withQuery(url, query) {
  if (!query) return url;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.append(k, v);
  const s = q.toString();
  return s ? url + (url.includes("?") ? "&" : "?") + s : url;
}
