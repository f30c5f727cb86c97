// The case workbench's own reads (gateway/api/routes/workbench.py) and supervision answers
// (gateway/api/routes/command.py).
export default (call) => ({
  // departments with their Chinese names, readable by department handlers too
  departments: () => call("GET", "/api/v1/workbench/departments"),
  answerSupervision: (supervisionId, body) =>
    call("POST", "/api/v1/command/supervisions/{supervision_id}/answers", { path: { supervision_id: supervisionId }, body }),
});
