// The workbench's API module: only documented /api/v1 paths, each called the one way the
// OpenAPI document describes it. No OpenAPI download at run time, no probing, no fallbacks:
// a refusal is an ApiError carrying the RFC 9457 problem (detail_zh shown in Chinese).
import { uuid } from "../common/dom.js";

export class ApiError extends Error {
  constructor(status, problem, lang) {
    const p = problem && typeof problem === "object" ? problem : {};
    const msg = lang === "en"
      ? p.detail || p.title || `HTTP ${status}`
      : p.detail_zh || p.title_zh || p.detail || `HTTP ${status}`;
    super(typeof msg === "string" ? msg : JSON.stringify(msg));
    this.status = status;
    this.code = p.code || String(status);
    this.problem = p;
  }
}

const enc = encodeURIComponent;

export function createApi(i18n) {
  const KEY = "yw.auth.workbench";
  let auth = null;
  try { auth = JSON.parse(localStorage.getItem(KEY) || "null"); } catch { auth = null; }
  const onLogout = new Set();

  function save(pair) {
    auth = pair ? { access: pair.access_token, refresh: pair.refresh_token, account: pair.account } : null;
    if (auth) localStorage.setItem(KEY, JSON.stringify(auth));
    else localStorage.removeItem(KEY);
  }

  function url(path, query) {
    if (!query) return path;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.append(k, v);
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  }

  async function raw(method, path, { body, query, form, noAuth } = {}) {
    const headers = { Accept: "application/json", "Accept-Language": i18n.lang };
    if (auth && !noAuth) headers.Authorization = `Bearer ${auth.access}`;
    let payload;
    if (form) payload = form;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    if (method === "POST") headers["Idempotency-Key"] = uuid();
    try {
      return await fetch(url(path, query), { method, headers, body: payload, credentials: "same-origin", cache: "no-store" });
    } catch {
      const m = i18n.t("error.network");
      throw new ApiError(0, { detail: m, detail_zh: m, code: "network" }, i18n.lang);
    }
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
  const get = (p, query) => request("GET", p, { query });
  const post = (p, body) => request("POST", p, { body });

  return {
    get account() { return auth?.account || null; },
    get token() { return auth?.access || null; },
    get signedIn() { return !!auth; },
    onLogout(fn) { onLogout.add(fn); },

    // --- auth (POST /api/v1/auth/...) --------------------------------------------------
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
    async me() {
      const a = await get("/api/v1/auth/me");
      if (auth) { auth.account = { ...auth.account, ...a }; localStorage.setItem(KEY, JSON.stringify(auth)); }
      return a;
    },

    // --- the queue: GET /api/v1/command/cases (filters documented there) ----------------
    /** {status, category, overdue, supervised, q, page, page_size} -> {items, total, next_cursor, ...} */
    listCases(filters) { return get("/api/v1/command/cases", filters); },

    // --- one case ---------------------------------------------------------------------
    /** the case as petitions sees it: timeline, reporter (masked), allowed_actions, version */
    getCase(id) { return get(`/api/v1/cases/${enc(id)}`); },
    /** the dispatch view's row (SLA clock), escalations, supervisions, whistles */
    getCommandCase(id) { return get(`/api/v1/command/cases/${enc(id)}`); },
    /** one lifecycle step: POST /api/v1/cases/{id}/actions {action, expected_version, fields} */
    act(id, action, expectedVersion, fields = {}) {
      return post(`/api/v1/cases/${enc(id)}/actions`, { action, expected_version: expectedVersion, fields });
    },
    /** command writes carry the dispatch view's row version (409 version_conflict when stale) */
    escalate(id, note, expectedVersion) {
      return post(`/api/v1/command/cases/${enc(id)}/escalate`, { note, expected_version: expectedVersion });
    },
    supervise(id, body) { return post(`/api/v1/command/cases/${enc(id)}/supervise`, body); },
    answerSupervision(sid, body) { return post(`/api/v1/command/supervisions/${enc(sid)}/answers`, body); },

    // --- reference data (names, never codes) ------------------------------------------
    categories() { return get("/api/v1/categories"); },
    /** departments with their Chinese names (a workbench route: department handlers too) */
    departments() { return get("/api/v1/workbench/departments"); },
    /** which routing rule would route these facts: the suggestion for a manual dispatch */
    suggestRoute(facts) { return post("/api/v1/command/rules/test", facts); },
    unit(code) { return get(`/api/v1/grids/units/${enc(code)}`); },

    // --- photos: POST /api/v1/media (multipart, field "file") --------------------------
    async upload(file) {
      const form = new FormData();
      form.append("file", file, file.name || "photo.jpg");
      return request("POST", "/api/v1/media", { form });
    },

    /**
     * Live changes: GET /api/v1/live/cases (text/event-stream), read with fetch so the
     * bearer token stays in a header; reconnects with backoff. Returns a stop function.
     */
    live(onEvent, onState) {
      let stopped = false;
      let ctrl = null;
      let timer = null;
      let backoff = 1000;
      async function stream() {
        ctrl = new AbortController();
        const res = await fetch("/api/v1/live/cases", {
          headers: { Accept: "text/event-stream", Authorization: `Bearer ${auth?.access || ""}` },
          signal: ctrl.signal, cache: "no-store",
        });
        if (res.status === 401) await refresh();
        if (!res.ok || !res.body) throw new Error(`stream ${res.status}`);
        onState?.(true);
        backoff = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value.replace(/\r\n/g, "\n");
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let type = "message";
            const data = [];
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) continue;
              if (line.startsWith("event:")) type = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
            }
            if (!data.length) continue;
            let parsed = data.join("\n");
            try { parsed = JSON.parse(parsed); } catch { /* plain text */ }
            onEvent(type, parsed);
          }
        }
        throw new Error("stream ended");
      }
      (async () => {
        while (!stopped) {
          try { await stream(); } catch { onState?.(false); }
          if (stopped) return;
          await new Promise((r) => { timer = setTimeout(r, backoff); });
          backoff = Math.min(backoff * 2, 30000);
        }
      })();
      return () => { stopped = true; ctrl?.abort(); clearTimeout(timer); };
    },
  };
}
