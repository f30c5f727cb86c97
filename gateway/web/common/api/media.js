// Photos and attachments (gateway/api/routes/media.py).
export default (call) => ({
  upload: (form) => call("POST", "/api/v1/media", { form }),
});
