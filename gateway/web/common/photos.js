// Photos: shrink on the phone before upload (slow networks), then upload one by one.
import { h } from "./dom.js";

export async function shrink(file, max = 1600, quality = 0.8) {
  if (!file.type.startsWith("image/")) return file;
  try {
    const bmp = await createImageBitmap(file);
    const scale = Math.min(1, max / Math.max(bmp.width, bmp.height));
    if (scale === 1 && file.size < 600 * 1024) return file;
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bmp.width * scale);
    canvas.height = Math.round(bmp.height * scale);
    canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", quality));
    return blob ? new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }) : file;
  } catch {
    return file;
  }
}

/** Upload with send(form) (api.media.upload); returns the URL (or id) to put in `media`. */
export async function upload(send, file) {
  const form = new FormData();
  form.append("file", await shrink(file), file.name || "photo.jpg");
  const r = await send(form);
  return r.url || r.href || r.location || r.media_url || r.id || r.media_id;
}

/** A photo picker with previews; .files() gives the chosen files. */
export function picker(i18n, { label = "photos.add", max = 9 } = {}) {
  const chosen = [];
  const previews = h("div", { class: "photos" });
  const input = h("input", { type: "file", accept: "image/*", multiple: true, name: "photos", hidden: true });
  const redraw = () => {
    previews.replaceChildren(...chosen.map((f, i) => {
      const url = URL.createObjectURL(f);
      return h("img", { src: url, alt: f.name, title: f.name, onclick: () => { chosen.splice(i, 1); redraw(); } });
    }));
  };
  input.addEventListener("change", () => {
    for (const f of input.files) if (chosen.length < max) chosen.push(f);
    input.value = "";
    redraw();
  });
  const btn = h("button", { type: "button", "data-i18n": label, onclick: () => input.click() });
  const el = h("div", { class: "stack" }, h("div", { class: "row" }, btn, input), previews);
  return { el, input, files: () => [...chosen], clear: () => { chosen.length = 0; redraw(); } };
}
