// Photos and attachments (gateway/api/routes/media.py).
export default (call) => ({
  // headers: { "X-Upload-Token": ... } for anonymous citizens (see uploadToken)
  upload: (form, headers = {}) => call("POST", "/api/v1/media", { form, headers }),
  // a short-lived token for anonymous uploads (the citizen page, before its photos)
  uploadToken: () => call("POST", "/api/v1/media/upload-tokens"),
});
