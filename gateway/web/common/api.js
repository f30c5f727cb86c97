// The gateway's REST API: bearer tokens (refreshed once on 401), idempotency keys on every
// POST, RFC 9457 problem details turned into errors with zh-CN/English messages.
import { uuid } from "./dom.js";

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

let openapi = null;

export function createApi(app, i18n) {
  const KEY = `yw.auth.${app}`;
  let auth = null;
  try { auth = JSON.parse(localStorage.getItem(KEY) || "null"); } catch { auth = null; }
  const onLogout = new Set();

  function save(pair) {
    auth = pair ? { access: pair.access_token, refresh: pair.refresh_token, account: pair.account } : null;
    if (auth) localStorage.setItem(KEY, JSON.stringify(auth));
    else localStorage.removeItem(KEY);
  }

  async function raw(method, path, { body, query, form, idem, headers = {}, noAuth } = {}) {
    let url = path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.append(k, v);
      const s = q.toString();
      if (s) url += (url.includes("?") ? "&" : "?") + s;
    }
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

  async function request(method, path, opts = {}) {
    let res = await raw(method, path, opts);
    if (res.status === 401 && auth && !opts.noAuth && (await refresh())) res = await raw(method, path, opts);
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

  return {
    get account() { return auth?.account || null; },
    get token() { return auth?.access || null; },
    get signedIn() { return !!auth; },
    onLogout(fn) { onLogout.add(fn); },
    get: (p, query) => request("GET", p, { query }),
    post: (p, body, opts = {}) => request("POST", p, { body, ...opts }),
    put: (p, body) => request("PUT", p, { body }),
    patch: (p, body) => request("PATCH", p, { body }),
    del: (p) => request("DELETE", p),
    request,
    async login(username, password) {
      save(await request("POST", "/api/v1/auth/login", { body: { username, password }, noAuth: true }));
      return auth.account;
    },
    async otpRequest(phone) { return request("POST", "/api/v1/auth/otp/request", { body: { phone }, noAuth: true }); },
    async otpVerify(phone, code) {
      save(await request("POST", "/api/v1/auth/otp/verify", { body: { phone, code }, noAuth: true }));
      return auth.account;
    },
    async logout() {
      try { if (auth) await request("POST", "/api/v1/auth/logout"); } catch { /* already gone */ }
      save(null);
      for (const fn of onLogout) fn();
    },
    /** the account from /auth/me (also checks the stored token is still good) */
    async me() {
      const a = await request("GET", "/api/v1/auth/me");
      if (auth) { auth.account = { ...auth.account, ...a }; localStorage.setItem(KEY, JSON.stringify(auth)); }
      return a;
    },
  };
}

/** The gateway's OpenAPI paths, to show only what the API really offers. */
export async function routes() {
  if (!openapi) {
    try {
      const r = await fetch("/openapi.json", { headers: { Accept: "application/json" } });
      openapi = r.ok ? (await r.json()).paths || {} : {};
    } catch { openapi = {}; }
  }
  return openapi;
}

/** has("POST", "/api/v1/cases/{case_id}/actions") */
export async function has(method, path) {
  const p = (await routes())[path];
  return !!(p && p[method.toLowerCase()]);
}

/** the first existing path among candidates (API paths may still be landing) */
export async function firstOf(method, ...paths) {
  for (const p of paths) if (await has(method, p)) return p;
  return null;
}

export function fill(path, params) {
  return path.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
}
