// Streams one run with the official JavaScript client (@langchain/langgraph-sdk) against
// LG_URL (".../lg") with the API key LG_API_KEY, and prints what it saw as one JSON line.
import { Client } from "@langchain/langgraph-sdk";

const client = new Client({ apiUrl: process.env.LG_URL, apiKey: process.env.LG_API_KEY });
const thread = await client.threads.create({ metadata: { from: "javascript" } });
const events = [];
let lastValues = null;
for await (const part of client.runs.stream(thread.thread_id, "navigator", {
  input: { messages: [{ type: "human", content: [{ type: "text", text: "I need a prior authorization" }] }] },
  streamMode: ["values", "updates", "messages-tuple"],
})) {
  events.push(part.event);
  if (part.event === "values") lastValues = part.data;
}
const messages = lastValues?.messages ?? [];
console.log(JSON.stringify({ thread_id: thread.thread_id, events, last_message: messages[messages.length - 1] ?? null }));
