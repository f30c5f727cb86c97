// Cases (gateway/api/routes/cases.py): a case's detail and timeline, lifecycle actions, rating.
export default (call) => ({
  get: (caseId) => call("GET", "/api/v1/cases/{case_id}", { path: { case_id: caseId } }),
  act: (caseId, body) => call("POST", "/api/v1/cases/{case_id}/actions", { path: { case_id: caseId }, body }),
  rate: (caseId, body) => call("POST", "/api/v1/cases/{case_id}/rating", { path: { case_id: caseId }, body }),
});
