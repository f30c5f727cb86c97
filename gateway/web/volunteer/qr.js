// Draw a QR code on a canvas from the vendored qrcode-generator (npm), no HTML strings.
let lib = null;
function load() {
  if (window.qrcode) return Promise.resolve(window.qrcode);
  if (!lib) {
    lib = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/vendor/qrcode.js";
      s.onload = () => resolve(window.qrcode);
      s.onerror = reject;
      document.head.append(s);
    });
  }
  return lib;
}
await load();

export function qrCanvas(text, size = 240) {
  const qr = window.qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  const cell = Math.max(2, Math.floor(size / (n + quiet * 2)));
  const c = document.createElement("canvas");
  c.width = c.height = cell * (n + quiet * 2);
  c.className = "qr";
  const g = c.getContext("2d");
  g.fillStyle = "#fff"; g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = "#000";
  for (let r = 0; r < n; r++) for (let col = 0; col < n; col++) if (qr.isDark(r, col)) g.fillRect((col + quiet) * cell, (r + quiet) * cell, cell, cell);
  return c;
}
