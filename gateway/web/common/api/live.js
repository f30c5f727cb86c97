// Live change streams (gateway/api/routes/live.py), Server-Sent Events read by common/live.js.
export default (call, stream) => ({
  cases: (query) => stream("GET", "/api/v1/live/cases", { query }),
});
