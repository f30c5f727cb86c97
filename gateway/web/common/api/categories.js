// The category catalogue (gateway/api/routes/cases.py).
export default (call) => ({
  list: (query) => call("GET", "/api/v1/categories", { query }),
  put: (code, body) => call("PUT", "/api/v1/categories/{code}", { path: { code }, body }),
  deactivate: (code) => call("POST", "/api/v1/categories/{code}/deactivate", { path: { code }, body: {} }),
});
