// A run in flight: its live steps (from the run's event stream) and where this
// browser was in that stream. The run's id and the last event id handled are kept
// in localStorage per conversation (ids only, nothing a person wrote), so a reload
// or a new tab reconnects after that event and sees the run finish once.

import { ApiError, request, sleep } from "./api.js";
import { runEvents } from "./stream.js";

export const STEP_LABELS = {
  guard: "Checking safety",
  navigator: "Understanding your question",
  clarify: "Preparing a question for you",
  strategy: "Planning your next steps",
  communicator: "Writing the answer",
};
// The clarify step both asks the question and, in the run that answers it, reads the answer.
const RESUME_LABELS = { ...STEP_LABELS, clarify: "Reading your answer" };
const OUTCOME_TITLES = {
  done: "Answered", success: "Answered", interrupt: "Waiting for your answer",
  interrupted: "Waiting for your answer", error: "Something went wrong", cancelled: "Cancelled",
};
// Kinds that end a run's stream; any other kind (a later "retry", say) is only read past.
const FINAL_EVENTS = new Set(["done", "interrupt", "error", "cancelled"]);
export const SETTLED = new Set(["success", "interrupted", "error", "cancelled"]);
const RUNS_KEY = "insurance-navigator.active-runs";

// --- where each conversation's run is: {[conversationId]: {runId, after, steps, resume}} ----

export function trackedRun(conversationId) {
  return trackedRuns()[conversationId] || null;
}

function trackedRuns() {
  try { return JSON.parse(localStorage.getItem(RUNS_KEY)) || {}; } catch { return {}; }
}

export function track(conversationId, entry) {
  const runs = trackedRuns();
  if (entry) runs[conversationId] = entry; else delete runs[conversationId];
  localStorage.setItem(RUNS_KEY, JSON.stringify(runs));
}

export function forgetTrackedRuns() { localStorage.removeItem(RUNS_KEY); }

// --- the progress box ----------------------------------------------------------------

export class Progress {
  constructor() {
    this.box = document.getElementById("progress");
    this.title = document.getElementById("progress-title");
    this.list = document.getElementById("steps");
  }

  /** The steps so far; the last one is running unless `outcome` says how the run ended. */
  show(nodes, { outcome = null, resume = false } = {}) {
    const labels = resume ? RESUME_LABELS : STEP_LABELS;
    const known = nodes.filter((node) => node in labels);
    this.box.hidden = false;
    this.title.textContent = outcome ? OUTCOME_TITLES[outcome] || "Finished" : "Working on it…";
    this.list.replaceChildren(...known.map((node, index) => {
      const item = document.createElement("li");
      const active = !outcome && index === known.length - 1;
      item.className = active ? "active" : "done";
      item.textContent = labels[node];
      if (active) item.setAttribute("aria-current", "step");
      return item;
    }));
  }

  hide() { this.box.hidden = true; }
}

/**
 * Follow a run to its end: read its events after `after`, reconnecting (after the last
 * event handled) when the stream ends without a final event. `onStep(nodes)` sees each
 * new step, `onEvent(after, nodes)` each event handled. Resolves to {kind, error} (kind:
 * an event kind, a run status, or "gone" when the run is no longer there), or null when
 * `signal` aborted it or the session ended.
 */
export async function followRun(runId, { after = 0, steps = [], signal, onStep, onEvent }) {
  const nodes = [...steps];
  let failures = 0;
  while (!signal.aborted) {
    let outcome = null;
    try {
      for await (const event of runEvents(runId, after, signal)) {
        after = event.id;
        failures = 0;
        if (event.event === "node_started" && event.data.node && nodes.at(-1) !== event.data.node) {
          nodes.push(event.data.node);
          onStep(nodes);
        }
        if (FINAL_EVENTS.has(event.event)) outcome = { kind: event.event, error: event.data.error };
        onEvent(after, nodes);
      }
    } catch (error) {
      if (signal.aborted || (error instanceof ApiError && error.status === 401)) return null;
      if (error instanceof ApiError && error.status === 404) return { kind: "gone", nodes };
      failures += 1;
    }
    if (outcome) return { ...outcome, nodes };
    // The stream ended without a final event (a restart, a lost connection): ask the run.
    try {
      const run = await request("GET", `/runs/${encodeURIComponent(runId)}`, { signal });
      if (SETTLED.has(run.status)) return { kind: run.status, error: run.error, nodes };
    } catch (error) {
      if (signal.aborted || (error instanceof ApiError && error.status === 401)) return null;
      if (error instanceof ApiError && error.status === 404) return { kind: "gone", nodes };
    }
    await sleep(Math.min(500 * 2 ** failures, 10_000));
  }
  return null;
}
