// Command centre (gateway/api/routes/command.py): case list and detail, KPIs, supervision,
// dispatch, escalation, alerts, whistles, departments, rules, the business calendar.
export default (call) => ({
  cases: (query) => call("GET", "/api/v1/command/cases", { query }),
  // the filtered view as CSV text (UTF-8 with BOM)
  exportCases: (query) => call("GET", "/api/v1/command/cases/export", { query }),
  // per child unit (by=unit) or per department (by=department) of a unit: now and over days
  unitStats: (query) => call("GET", "/api/v1/command/units/stats", { query }),
  case: (caseId) => call("GET", "/api/v1/command/cases/{case_id}", { path: { case_id: caseId } }),
  supervise: (caseId, body) => call("POST", "/api/v1/command/cases/{case_id}/supervise", { path: { case_id: caseId }, body }),
  dispatch: (caseId, body) => call("POST", "/api/v1/command/cases/{case_id}/dispatch", { path: { case_id: caseId }, body }),
  escalate: (caseId, body) => call("POST", "/api/v1/command/cases/{case_id}/escalate", { path: { case_id: caseId }, body }),
  kpis: (query) => call("GET", "/api/v1/command/kpis", { query }),
  series: (query) => call("GET", "/api/v1/command/kpis/series", { query }),
  alerts: (query) => call("GET", "/api/v1/command/alerts", { query }),
  whistleTally: (query) => call("GET", "/api/v1/command/whistles/tally", { query }),
  departments: () => call("GET", "/api/v1/command/departments"),
  putDepartment: (code, body) => call("PUT", "/api/v1/command/departments/{code}", { path: { code }, body }),
  rules: () => call("GET", "/api/v1/command/rules"),
  putRule: (name, body) => call("PUT", "/api/v1/command/rules/{name}", { path: { name }, body }),
  deleteRule: (name) => call("DELETE", "/api/v1/command/rules/{name}", { path: { name } }),
  testRules: (body) => call("POST", "/api/v1/command/rules/test", { body }),
  calendars: () => call("GET", "/api/v1/command/calendar"),
  calendar: (year) => call("GET", "/api/v1/command/calendar/{year}", { path: { year } }),
  putCalendar: (year, body) => call("PUT", "/api/v1/command/calendar/{year}", { path: { year }, body }),
});
