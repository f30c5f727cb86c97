// The frame every app shares: a top bar (title, language, sign out) and a sign-in screen.
import { h, mount, toast } from "./dom.js";

export function topbar(i18n, api, { onLogout } = {}) {
  const who = h("span", { class: "who" });
  const out = h("button", { class: "ghost", type: "button", "data-i18n": "logout", onclick: async () => {
    await api.logout();
    onLogout?.();
  } });
  const bar = h("header", { class: "topbar" },
    h("a", { class: "brand", href: "/" }, h("span", { class: "logo", "aria-hidden": "true" }, "一"),
      h("span", { "data-i18n": "app.name" })),
    h("span", { class: "spacer" }), who, i18n.switcher(), out);
  const refresh = () => {
    const a = api.account;
    who.textContent = a ? a.display_name : "";
    out.hidden = !a;
  };
  refresh();
  bar.refresh = () => { refresh(); i18n.apply(bar); };
  i18n.apply(bar);
  return bar;
}

/**
 * A sign-in form. opts: {roles: [...allowed], demo: "demo_leader", phone: bool}
 * Resolves with the account once signed in with an allowed role.
 */
export function signIn(root, i18n, api, opts = {}) {
  return new Promise((resolve) => {
    const err = h("p", { class: "error", role: "alert" });
    const user = h("input", { name: "username", autocomplete: "username", required: true, value: opts.demo || "", "data-i18n-placeholder": "login.username" });
    const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true, "data-i18n-placeholder": "login.password" });
    const phone = h("input", { name: "phone", type: "tel", inputmode: "numeric", pattern: "1[3-9][0-9]{9}", "data-i18n-placeholder": "login.phone" });
    const code = h("input", { name: "code", inputmode: "numeric", pattern: "[0-9]{6}", "data-i18n-placeholder": "login.code" });
    const done = (account) => {
      if (opts.roles && !opts.roles.includes(account.role)) {
        err.textContent = i18n.t("error.forbidden");
        api.logout();
        return;
      }
      resolve(account);
    };
    const pwForm = h("form", { class: "card stack", onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = "";
      try { done(await api.login(user.value.trim(), pass.value)); } catch (x) { err.textContent = x.message; }
    } },
    h("label", {}, h("span", { "data-i18n": "login.username" }), user),
    h("label", {}, h("span", { "data-i18n": "login.password" }), pass),
    h("button", { class: "primary", type: "submit", "data-i18n": "login.submit" }));
    const sendBtn = h("button", { type: "button", class: "ghost", "data-i18n": "login.send_code", onclick: async () => {
      err.textContent = "";
      try { await api.otpRequest(phone.value.trim()); toast("✓"); } catch (x) { err.textContent = x.message; }
    } });
    const otpForm = h("form", { class: "card stack", hidden: true, onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = "";
      try { done(await api.otpVerify(phone.value.trim(), code.value.trim())); } catch (x) { err.textContent = x.message; }
    } },
    h("label", {}, h("span", { "data-i18n": "login.phone" }), phone),
    h("div", { class: "row" }, h("label", { class: "grow" }, h("span", { "data-i18n": "login.code" }), code), sendBtn),
    h("button", { class: "primary", type: "submit", "data-i18n": "login.submit" }));
    const toggle = h("button", { type: "button", class: "link", "data-i18n": "login.with_phone", onclick: () => {
      const phoneMode = otpForm.hidden;
      otpForm.hidden = !phoneMode; pwForm.hidden = phoneMode;
      toggle.dataset.i18n = phoneMode ? "login.with_password" : "login.with_phone";
      i18n.apply(root);
    } });
    const hint = h("p", { class: "muted small" });
    const setHint = () => { hint.textContent = opts.demo ? i18n.t("login.demo", { u: opts.demo }) : ""; };
    setHint();
    i18n.onChange(setHint);
    mount(root, h("section", { class: "login" },
      h("h1", { "data-i18n": "app.title" }),
      h("h2", { "data-i18n": "login.title" }),
      pwForm, opts.phone ? otpForm : null, opts.phone ? toggle : null, err, hint));
    i18n.apply(root);
  });
}

/** Render a loading placeholder, then the result of fn() or its error with a retry. */
export async function section(el, i18n, fn) {
  mount(el, h("p", { class: "muted", text: i18n.t("loading") }));
  try {
    const node = await fn();
    mount(el, node ?? h("p", { class: "muted", text: i18n.t("empty") }));
  } catch (e) {
    mount(el, h("p", { class: "error", text: e.message }),
      h("button", { type: "button", class: "ghost", text: i18n.t("retry"), onclick: () => section(el, i18n, fn) }));
  }
}

export function statusChip(i18n, status) {
  return h("span", { class: `chip st-${String(status || "").replace(/[^a-z_]/g, "")}`, text: i18n.t(`status.${status}`) });
}
