// The workbench's API: the shared client (common/api/client.js: bearer tokens refreshed once,
// idempotency keys, RFC 9457 problems with detail_zh) and the shared area modules, whose
// every path is a documented literal checked by tests/web/test_api_contract.py. This module
// only names what the workbench does with them (areas named apart from these names).
import { createApi as createClient } from "../common/api/client.js";
import cases from "../common/api/cases.js";
import categories from "../common/api/categories.js";
import command from "../common/api/command.js";
import grids from "../common/api/grids.js";
import liveApi from "../common/api/live.js";
import media from "../common/api/media.js";
import workbench from "../common/api/workbench.js";
import { live } from "../common/live.js";

export function createApi(i18n) {
  const api = createClient("workbench", i18n, { cases, catalogue: categories, command, grids, streams: liveApi, media, workbench });
  return Object.assign(api, {
    /** the queue: {status, category, overdue, supervised, q, cursor, page_size} -> {items, total, next_cursor} */
    listCases: (filters) => api.command.cases(filters),
    /** the case as petitions sees it: timeline, reporter (masked), allowed_actions, version */
    getCase: (id) => api.cases.get(id),
    /** the dispatch view's row (SLA clock, version), escalations, supervisions, whistles */
    getCommandCase: (id) => api.command.case(id),
    /** one lifecycle step, against the case version the page shows (409 when it moved on) */
    act: (id, action, expectedVersion, fields = {}) =>
      api.cases.act(id, { action, expected_version: expectedVersion, fields }),
    /** command writes carry the dispatch view's row version (409 version_conflict when stale) */
    escalate: (id, note, expectedVersion) => api.command.escalate(id, { note, expected_version: expectedVersion }),
    supervise: (id, body) => api.command.supervise(id, body),
    answerSupervision: (sid, body) => api.workbench.answerSupervision(sid, body),
    categories: () => api.catalogue.list(),
    departments: () => api.workbench.departments(),
    /** which routing rule would route these facts: the suggestion for a manual dispatch */
    suggestRoute: (facts) => api.command.testRules(facts),
    unit: (code) => api.grids.unit(code),
    upload(file) {
      const form = new FormData();
      form.append("file", file, file.name || "photo.jpg");
      return api.media.upload(form);
    },
    /** live changes of the queue (text/event-stream); returns a stop function */
    live: (onEvent, onState) => live({ open: api.streams.cases(), onEvent, onState }),
  });
}
