// Safe DOM building: text always goes through textContent, never innerHTML.
const URL_ATTRS = new Set(["href", "src", "action", "formaction", "poster"]);

function safeUrl(v) {
  const s = String(v).trim();
  if (/^(https?:|blob:|data:image\/|\/|\.|#|\?)/i.test(s) || !/^[a-z][a-z0-9+.-]*:/i.test(s)) return s;
  return "about:blank";
}

/** h("div", {class: "x", text: "hi", onclick: fn, attrs: {...}}, child, "text", ...) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked" || k === "disabled" || k === "selected" || k === "multiple") el[k] = !!v;
    else if (k.startsWith("on")) continue; // never string handlers
    else el.setAttribute(k, URL_ATTRS.has(k) ? safeUrl(v) : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function mount(el, ...children) {
  return append(clear(el), children);
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function fmtTime(iso, lang) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}

export function pct(x) {
  return x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`;
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

let toastTimer;
export function toast(msg, kind = "info") {
  let el = document.getElementById("yw-toast");
  if (!el) {
    el = h("div", { id: "yw-toast", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  el.className = `toast ${kind} show`;
  el.textContent = String(msg);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 3500);
}
