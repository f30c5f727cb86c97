// Citizen reports (gateway/api/routes/reports.py): file one, follow it.
export default (call) => ({
  file: (body, idem) => call("POST", "/api/v1/reports", { body, idem }),
  get: (reportId) => call("GET", "/api/v1/reports/{report_id}", { path: { report_id: reportId } }),
});
