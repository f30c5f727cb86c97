// Enterprise services (gateway/api/routes/enterprise.py): demands, financing, jobs, technical
// support, policies, key projects, enterprises and institutions.
export default (call) => ({
  demands: (query) => call("GET", "/api/v1/enterprise/demands", { query }),
  myDemands: (query) => call("GET", "/api/v1/enterprise/demands/mine", { query }),
  fileDemand: (body) => call("POST", "/api/v1/enterprise/demands", { body }),
  rateDemand: (demandId, body) => call("POST", "/api/v1/enterprise/demands/{demand_id}/rating", { path: { demand_id: demandId }, body }),
  projects: (query) => call("GET", "/api/v1/enterprise/projects", { query }),
  policies: (query) => call("GET", "/api/v1/enterprise/policies", { query }),
  myPolicies: (query) => call("GET", "/api/v1/enterprise/policies/mine", { query }),
  financingNeeds: (query) => call("GET", "/api/v1/enterprise/financing/needs", { query }),
  financingProducts: (query) => call("GET", "/api/v1/enterprise/financing/products", { query }),
  jobs: (query) => call("GET", "/api/v1/enterprise/jobs", { query }),
  techNeeds: (query) => call("GET", "/api/v1/enterprise/tech-needs", { query }),
  capabilities: (query) => call("GET", "/api/v1/enterprise/capabilities", { query }),
  enterprises: (query) => call("GET", "/api/v1/enterprise/enterprises", { query }),
  me: () => call("GET", "/api/v1/enterprise/me"),
  myInstitution: () => call("GET", "/api/v1/enterprise/institutions/me"),
});
