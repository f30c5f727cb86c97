// Live updates: Server-Sent Events read with fetch (so the bearer token travels in a header,
// which EventSource cannot send), reconnecting with backoff; polling when no stream exists.
// open() gives the stream's { url, headers } (an api.live.* function from common/api/live.js).
export function live({ open, onEvent, onState, pollMs = 5000, poll }) {
  let stopped = false;
  let ctrl = null;
  let timer = null;
  let backoff = 1000;

  async function stream() {
    ctrl = new AbortController();
    const { url, headers } = open();
    const res = await fetch(url, {
      headers, signal: ctrl.signal, cache: "no-store",
    });
    if (!res.ok || !res.body) throw new Error(`stream ${res.status}`);
    onState?.(true);
    backoff = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value.replace(/\r\n/g, "\n");
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let type = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (!data.length) continue;
        let parsed = data.join("\n");
        try { parsed = JSON.parse(parsed); } catch { /* plain text */ }
        onEvent(type, parsed);
      }
    }
    throw new Error("stream ended");
  }

  async function loop() {
    while (!stopped) {
      try { await stream(); } catch { onState?.(false); }
      if (stopped) return;
      await new Promise((r) => { timer = setTimeout(r, backoff); });
      backoff = Math.min(backoff * 2, 30000);
    }
  }

  function polling() {
    const tick = async () => {
      if (stopped) return;
      try { await poll(); onState?.(true); } catch { onState?.(false); }
      timer = setTimeout(tick, pollMs);
    };
    timer = setTimeout(tick, pollMs);
  }

  if (open) loop(); else if (poll) polling();
  return () => { stopped = true; ctrl?.abort(); clearTimeout(timer); };
}
