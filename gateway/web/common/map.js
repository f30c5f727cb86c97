// ECharts maps from the grids' GeoJSON export (no tiles). ECharts is loaded on demand
// from /vendor/ (copied from the npm package at setup), once.
let loading = null;
export function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/vendor/echarts.min.js";
      s.onload = () => resolve(window.echarts);
      s.onerror = () => reject(new Error("echarts"));
      document.head.append(s);
    });
  }
  return loading;
}

/** properties of a feature whatever the exporter calls them */
export function featureCode(f) {
  const p = f.properties || {};
  return String(p.code ?? p.unit_code ?? p.grid_code ?? f.id ?? "");
}
export function featureName(f) {
  const p = f.properties || {};
  return String(p.name ?? p.name_zh ?? featureCode(f));
}

/** Normalise a FeatureCollection so that properties.name is the unit code (ECharts keys regions by name). */
export function keyedByCode(fc) {
  const names = {};
  const features = (fc.features || []).filter((f) => f.geometry).map((f) => {
    const code = featureCode(f);
    names[code] = featureName(f);
    return { ...f, properties: { ...f.properties, name: code } };
  });
  return { geo: { type: "FeatureCollection", features }, names };
}
