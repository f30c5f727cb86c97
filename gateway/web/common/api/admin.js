// Accounts (gateway/api/routes/admin.py).
export default (call) => ({
  accounts: (query) => call("GET", "/api/v1/admin/accounts", { query }),
  createAccount: (body) => call("POST", "/api/v1/admin/accounts", { body }),
});
