// Photos and attachments (gateway/api/routes/media.py).
import { fill } from "./client.js";

export default (call) => ({
  // where a stored photo is shown (GET, the public copy without EXIF location)
  href: (mediaId) => fill("/api/v1/media/{media_id}", { media_id: mediaId }),
  // headers: { "X-Upload-Token": ... } for anonymous citizens (see uploadToken)
  upload: (form, headers = {}) => call("POST", "/api/v1/media", { form, headers }),
  // a short-lived token for anonymous uploads (the citizen page, before its photos)
  uploadToken: () => call("POST", "/api/v1/media/upload-tokens"),
});
