// Grids (gateway/api/routes/grids.py): units, boundaries, locating a point, grid workers, patrols.
export default (call) => ({
  locate: (query) => call("GET", "/api/v1/grids/locate", { query }),
  boundaries: (query) => call("GET", "/api/v1/grids/boundaries", { query }),
  unit: (code) => call("GET", "/api/v1/grids/units/{code}", { path: { code } }),
  children: (code) => call("GET", "/api/v1/grids/units/{code}/children", { path: { code } }),
  searchUnits: (query) => call("GET", "/api/v1/grids/units", { query }),
  myWorker: () => call("GET", "/api/v1/grids/workers/me"),
  startPatrol: (body) => call("POST", "/api/v1/grids/patrols", { body }),
  patrolPoints: (patrolId, body) => call("POST", "/api/v1/grids/patrols/{patrol_id}/points", { path: { patrol_id: patrolId }, body }),
  endPatrol: (patrolId, body) => call("POST", "/api/v1/grids/patrols/{patrol_id}/end", { path: { patrol_id: patrolId }, body }),
  finding: (patrolId, body, idem) => call("POST", "/api/v1/grids/patrols/{patrol_id}/findings", { path: { patrol_id: patrolId }, body, idem }),
});
