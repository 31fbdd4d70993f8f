// One conversation: its transcript, the message box, the run in flight, and the
// conversation's own actions (rename, pin, keep longer, export, delete).
//
// A message starts a run (POST /conversations/{id}/runs, or POST /runs/{id}/resume
// when the workflow asked a question); its steps show live from the run's event
// stream. The run's id and the last event id handled are kept in localStorage, so a
// reload reconnects after that event and the run is shown finishing once. When the
// run settles, the conversation's new messages are read from its history: what is
// shown is always what was stored.

import { ApiError, download, request, sleep } from "./api.js";
import { messageElement, noticeElement, pendingElement } from "./render.js";
import { absolute, describeTimes, expired, titleOf } from "./sidebar.js";
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
const FINAL_EVENTS = new Set(["done", "interrupt", "error", "cancelled"]);
const SETTLED = new Set(["success", "interrupted", "error", "cancelled"]);
const OUTCOME_TITLES = {
  done: "Answered", success: "Answered", interrupt: "Waiting for your answer",
  interrupted: "Waiting for your answer", error: "Something went wrong", cancelled: "Cancelled",
};
const RUNS_KEY = "insurance-navigator.active-runs";
const TITLE_CHARS = 80;
const HISTORY_PAGE = 100;

// Runs in flight per conversation: {[conversationId]: {runId, after, steps}}. Ids only.
function trackedRuns() {
  try { return JSON.parse(localStorage.getItem(RUNS_KEY)) || {}; } catch { return {}; }
}
function track(conversationId, entry) {
  const runs = trackedRuns();
  if (entry) runs[conversationId] = entry; else delete runs[conversationId];
  localStorage.setItem(RUNS_KEY, JSON.stringify(runs));
}
export function forgetTrackedRuns() { localStorage.removeItem(RUNS_KEY); }

function titleFrom(text) {
  const line = text.split(/\s+/).join(" ").trim();
  return line.length <= TITLE_CHARS ? line : `${line.slice(0, TITLE_CHARS - 1)}…`;
}

const byId = (id) => document.getElementById(id);

export class Chat {
  constructor(sidebar) {
    this.sidebar = sidebar;
    this.conversation = null;
    this.lastMessageId = 0;
    this.question = null;
    this.following = null;
    this.opening = 0;
    this.transcript = byId("transcript");
    this.welcome = byId("welcome");
    this.input = byId("message");
    this.sendButton = byId("send");
    this.wire();
  }

  wire() {
    byId("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    byId("rename").addEventListener("click", () => this.startRename());
    byId("rename-cancel").addEventListener("click", () => this.endRename());
    byId("rename-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveRename();
    });
    byId("rename-input").addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.endRename();
    });
    byId("pin").addEventListener("click", () => this.togglePin());
    byId("extend").addEventListener("click", () => this.extend());
    byId("export").addEventListener("click", () => this.exportConversation());
    byId("delete").addEventListener("click", () => this.confirmDelete());
  }

  // --- what is shown ------------------------------------------------------------------

  notice(text) { byId("notice").textContent = text || ""; }
  composerError(text) { byId("composer-error").textContent = text || ""; }

  renderHeader() {
    const conversation = this.conversation;
    byId("chat-title").textContent = conversation ? titleOf(conversation) : "New conversation";
    byId("chat-meta").textContent = conversation ? describeTimes(conversation) : "";
    byId("chat-meta").title = conversation
      ? `Last activity ${absolute(conversation.updated_at)}; expires ${absolute(conversation.expires_at)}` : "";
    byId("chat-actions").hidden = !conversation;
    byId("pin").setAttribute("aria-pressed", String(Boolean(conversation?.pinned)));
    byId("pin").textContent = conversation?.pinned ? "Pinned" : "Pin";
    this.endRename();
  }

  renderComposer() {
    const busy = Boolean(this.following);
    this.sendButton.disabled = busy;
    byId("composer-hint").textContent = this.question
      ? "Answer the question above. Enter sends; Shift+Enter starts a new line."
      : "Enter sends; Shift+Enter starts a new line.";
    this.input.placeholder = this.question ? "Your answer" : "Describe your situation or ask a question";
  }

  clearTranscript() {
    this.transcript.replaceChildren(this.welcome);
    this.welcome.hidden = false;
    this.lastMessageId = 0;
    this.question = null;
  }

  /** Show messages not shown yet; `scroll` "end" (opening) or "first" (the start of what is new). */
  appendMessages(messages, scroll = "end") {
    let first = null;
    for (const message of messages) {
      if (message.id <= this.lastMessageId) continue;  // already shown
      const element = messageElement(message);
      first ??= element;
      this.transcript.append(element);
      this.lastMessageId = message.id;
      this.question = message.role === "assistant" && message.metadata?.interrupt === true
        ? { runId: message.metadata.run_id } : null;
    }
    this.welcome.hidden = this.lastMessageId > 0 || Boolean(this.transcript.querySelector(".pending"));
    if (scroll === "first" && first) this.transcript.scrollTop = first.offsetTop - 8;
    else this.scrollToEnd();
  }

  scrollToEnd() { this.transcript.scrollTop = this.transcript.scrollHeight; }

  showPending(text) {
    this.pendingText = text;
    this.transcript.querySelector(".pending")?.remove();
    this.transcript.append(pendingElement(text));
    this.welcome.hidden = true;
    this.scrollToEnd();
  }

  dropPending() { this.transcript.querySelector(".pending")?.remove(); }

  showProgress(nodes, outcome = null, resume = false) {
    const progress = byId("progress");
    progress.hidden = nodes.length === 0 && !outcome;
    byId("progress-title").textContent = outcome ? OUTCOME_TITLES[outcome] || "Finished" : "Working on it…";
    const labels = resume ? RESUME_LABELS : STEP_LABELS;
    const known = nodes.filter((node) => node in labels);
    byId("steps").replaceChildren(...known.map((node, index) => {
      const item = document.createElement("li");
      const active = !outcome && index === known.length - 1;
      item.className = active ? "active" : "done";
      item.textContent = labels[node];
      if (active) item.setAttribute("aria-current", "step");
      return item;
    }));
  }

  hideProgress() { byId("progress").hidden = true; }

  // --- opening ------------------------------------------------------------------------

  showNew() {
    this.stopFollowing();
    this.opening += 1;
    this.conversation = null;
    this.clearTranscript();
    this.hideProgress();
    this.notice("");
    this.composerError("");
    this.renderHeader();
    this.renderComposer();
    this.sidebar.setCurrent(null);
  }

  async open(id) {
    this.stopFollowing();
    const opening = ++this.opening;
    this.notice("");
    this.composerError("");
    let conversation;
    let messages;
    try {
      conversation = await request("GET", `/conversations/${encodeURIComponent(id)}`);
      messages = await this.history(id, 0);
    } catch (error) {
      if (opening !== this.opening) return;
      if (error instanceof ApiError && error.status === 404) return this.gone(id);
      throw error;
    }
    if (opening !== this.opening) return;  // another conversation was chosen meanwhile
    this.conversation = conversation;
    this.sidebar.upsert(conversation);
    this.sidebar.setCurrent(id);
    this.clearTranscript();
    this.hideProgress();
    this.renderHeader();
    this.appendMessages(messages);
    this.renderComposer();
    await this.resumeTracked(id, opening);
  }

  async history(id, after) {
    const messages = [];
    let cursor = after ? String(after) : null;
    do {
      const query = `limit=${HISTORY_PAGE}${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await request("GET", `/conversations/${encodeURIComponent(id)}/history?${query}`);
      messages.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return messages;
  }

  /** After a reload: a run this browser started and had not seen finish. */
  async resumeTracked(id, opening) {
    const tracked = trackedRuns()[id];
    if (!tracked) return;
    let run;
    try {
      run = await request("GET", `/runs/${encodeURIComponent(tracked.runId)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) track(id, null);
      return;
    }
    if (opening !== this.opening) return;
    if (SETTLED.has(run.status)) {
      // It finished while we were away: its messages came with the history.
      track(id, null);
      return;
    }
    const said = run.input?.message ?? run.input?.resume;
    this.showPending(typeof said === "string" ? said : JSON.stringify(said));
    this.follow(id, tracked.runId, { after: tracked.after || 0, steps: tracked.steps || [], resume: run.kind === "resume" });
  }

  gone(id) {
    const known = this.sidebar.get(id);
    this.sidebar.remove(id);
    track(id, null);
    this.showNew();
    history.replaceState(null, "", "#/");
    this.notice(known && expired(known)
      ? "That conversation has expired, and its messages are gone. Use Keep longer on a conversation to keep it past its expiry time."
      : "That conversation is no longer available: it expired or was deleted. Use Keep longer on a conversation to keep it past its expiry time.");
  }

  // --- sending ------------------------------------------------------------------------

  async submit() {
    const text = this.input.value.trim();
    if (this.following) return;
    if (!text) {
      this.composerError("Type a message first.");
      this.input.focus();
      return;
    }
    this.composerError("");
    this.notice("");
    this.sendButton.disabled = true;
    this.input.value = "";
    this.input.focus();  // Send is disabled while the run goes: the box keeps the focus
    this.showPending(text);
    let conversationId = this.conversation?.id;
    try {
      if (!this.conversation) {
        const created = await request("POST", "/conversations", { json: { title: titleFrom(text) } });
        this.conversation = created;
        conversationId = created.id;
        this.sidebar.upsert(created);
        this.sidebar.setCurrent(created.id);
        history.replaceState(null, "", `#/c/${created.id}`);
        this.renderHeader();
      }
      const resume = Boolean(this.question);
      const run = await this.startRun(conversationId, text);
      if (!run) return;
      track(conversationId, { runId: run.id, after: 0, steps: [], resume });
      this.follow(conversationId, run.id, { resume });
    } catch (error) {
      this.dropPending();
      if (!this.input.value) this.input.value = text;  // nothing is lost: the text goes back in the box
      this.renderComposer();
      if (error instanceof ApiError && error.status === 404 && conversationId) {
        this.gone(conversationId);
        this.input.value = text;
        this.composerError("Your message is still in the box: press Send to start a new conversation with it.");
        return;
      }
      if (!(error instanceof ApiError && error.status === 401)) this.composerError(error.message);
    }
  }

  async startRun(conversationId, text) {
    if (!this.question) {
      return request("POST", `/conversations/${encodeURIComponent(conversationId)}/runs`, {
        json: { message: text }, headers: { "Idempotency-Key": crypto.randomUUID() },
      });
    }
    try {
      return await request("POST", `/runs/${encodeURIComponent(this.question.runId)}/resume`, { json: { input: text } });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409)) throw error;
      // Answered already (another tab): show where the conversation stands.
      this.dropPending();
      this.input.value = text;
      await this.refreshMessages(conversationId);
      this.renderComposer();
      this.notice("That question was answered already; here is where the conversation stands.");
      return null;
    }
  }

  // --- following a run ----------------------------------------------------------------

  stopFollowing() {
    if (this.following) this.following.controller.abort();
    this.following = null;
  }

  async follow(conversationId, runId, { after = 0, steps = [], resume = false } = {}) {
    this.stopFollowing();
    const controller = new AbortController();
    const following = { conversationId, runId, controller };
    this.following = following;
    this.renderComposer();
    const nodes = [...steps];
    this.showProgress(nodes, null, resume);
    byId("progress").hidden = false;
    let outcome = null;
    let failures = 0;
    while (!outcome && !controller.signal.aborted) {
      try {
        for await (const event of runEvents(runId, after, controller.signal)) {
          after = event.id;
          failures = 0;
          if (event.event === "node_started" && event.data.node && nodes.at(-1) !== event.data.node) {
            nodes.push(event.data.node);
            this.showProgress(nodes, null, resume);
          }
          if (FINAL_EVENTS.has(event.event)) outcome = { kind: event.event, error: event.data.error };
          track(conversationId, { runId, after, steps: nodes, resume });
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) return;  // signed out: the sign-in page shows
        if (error instanceof ApiError && error.status === 404) outcome = { kind: "gone" };
        failures += 1;
      }
      if (outcome || controller.signal.aborted) break;
      // The stream ended without a final event (a restart, a lost connection): ask the run.
      try {
        const run = await request("GET", `/runs/${encodeURIComponent(runId)}`, { signal: controller.signal });
        if (SETTLED.has(run.status)) outcome = { kind: run.status, error: run.error };
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) outcome = { kind: "gone" };
      }
      if (!outcome) await sleep(Math.min(500 * 2 ** failures, 10_000));
    }
    if (controller.signal.aborted || this.following !== following) return;
    this.following = null;
    track(conversationId, null);
    await this.settled(conversationId, outcome, nodes, resume);
  }

  async settled(conversationId, outcome, nodes, resume) {
    this.showProgress(nodes, outcome.kind, resume);
    try {
      // The pending bubble goes just before the stored messages come in, so nothing jumps.
      await this.refreshMessages(conversationId, () => this.dropPending());
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return this.gone(conversationId);
      this.composerError(error.message);
    }
    this.dropPending();
    if (outcome.kind === "error" || outcome.kind === "cancelled" || outcome.kind === "gone") {
      if (!this.input.value && this.pendingText) this.input.value = this.pendingText;
      const why = outcome.kind === "error"
        ? "Something went wrong while answering, and your message was not kept. It is back in the box: press Send to try again."
        : "That run stopped before it answered. Your message is back in the box.";
      this.transcript.append(noticeElement(why));
      this.scrollToEnd();
    }
    this.renderComposer();
  }

  async refreshMessages(conversationId, beforeAppend = () => {}) {
    const current = this.conversation?.id === conversationId;
    const [conversation, messages] = await Promise.all([
      request("GET", `/conversations/${encodeURIComponent(conversationId)}`),
      current ? this.history(conversationId, this.lastMessageId) : [],
    ]);
    this.sidebar.upsert(conversation);
    if (!current || this.conversation?.id !== conversationId) return;
    this.conversation = conversation;
    this.renderHeader();
    beforeAppend();
    this.appendMessages(messages, "first");
  }

  // --- the conversation's actions ---------------------------------------------------------

  async act(work) {
    this.notice("");
    try {
      await work();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && this.conversation) return this.gone(this.conversation.id);
      if (!(error instanceof ApiError && error.status === 401)) this.notice(error.message);
    }
  }

  adopt(conversation) {
    this.conversation = conversation;
    this.sidebar.upsert(conversation);
    this.renderHeader();
  }

  startRename() {
    const form = byId("rename-form");
    byId("chat-actions").hidden = true;
    form.hidden = false;
    const input = byId("rename-input");
    input.value = this.conversation?.title || "";
    input.focus();
    input.select();
  }

  endRename() {
    const form = byId("rename-form");
    if (form.hidden) return;
    const focusBack = form.contains(document.activeElement);
    form.hidden = true;
    byId("chat-actions").hidden = !this.conversation;
    if (focusBack) byId("rename").focus();
  }

  saveRename() {
    const title = byId("rename-input").value.trim();
    if (!title) {
      this.notice("A title needs at least one character.");
      return;
    }
    return this.act(async () => {
      this.adopt(await request("PATCH", `/conversations/${this.conversation.id}`, { json: { title } }));
      byId("rename").focus();
      this.notice("Renamed.");
    });
  }

  togglePin() {
    return this.act(async () => {
      const pinned = !this.conversation.pinned;
      this.adopt(await request("PATCH", `/conversations/${this.conversation.id}`, { json: { pinned } }));
      this.notice(pinned ? "Pinned: it stays at the top of your list." : "Unpinned.");
    });
  }

  extend() {
    return this.act(async () => {
      this.adopt(await request("POST", `/conversations/${this.conversation.id}/extend`));
      this.notice(`Kept until ${absolute(this.conversation.expires_at)}.`);
    });
  }

  exportConversation() {
    return this.act(async () => {
      const slug = titleOf(this.conversation).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40);
      await download(`/conversations/${this.conversation.id}/export`, `conversation-${slug || "export"}.json`);
      this.notice("Export downloaded.");
    });
  }

  confirmDelete() {
    const dialog = byId("confirm-delete");
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "delete") this.deleteConversation();
      else byId("delete").focus();
    }, { once: true });
    dialog.showModal();
  }

  deleteConversation() {
    return this.act(async () => {
      const id = this.conversation.id;
      this.stopFollowing();
      await request("DELETE", `/conversations/${id}`);
      track(id, null);
      this.sidebar.remove(id);
      this.showNew();
      history.replaceState(null, "", "#/");
      this.notice("Conversation deleted.");
      this.input.focus();
    });
  }
}
