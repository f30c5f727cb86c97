// Copy run-time assets from node_modules into vendor/ (served by the gateway; no CDN).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const files = [
  ["echarts/dist/echarts.min.js", "echarts.min.js"],
  ["qrcode-generator/qrcode.js", "qrcode.js"],
];
mkdirSync(join(here, "vendor"), { recursive: true });
for (const [from, to] of files) {
  copyFileSync(join(here, "node_modules", from), join(here, "vendor", to));
  console.log(`vendor/${to} <- node_modules/${from}`);
}
