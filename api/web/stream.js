// A run's events, read from GET /runs/{id}/events (Server-Sent Events) with fetch:
// EventSource cannot send the Authorization header. Each event carries its id, so a
// reader that lost the connection (or the page, on reload) continues after the last
// one it handled, and sees nothing twice.

import { openStream } from "./api.js";

/** Events after `lastEventId`, as {id, event, data}, until the server ends the stream. */
export async function* runEvents(runId, lastEventId, signal) {
  const response = await openStream(`/runs/${encodeURIComponent(runId)}/events`, lastEventId, signal);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) yield event;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function parse(block) {
  const fields = {};
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;  // comments are keep-alive pings
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    fields[name] = name in fields ? `${fields[name]}\n${value}` : value;
  }
  if (!fields.id || !fields.event) return null;
  let payload = {};
  try { payload = JSON.parse(fields.data || "{}"); } catch { /* keep the event, without data */ }
  return { id: Number(fields.id), event: fields.event, data: payload.data || {} };
}
