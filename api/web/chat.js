// One conversation: its transcript, the message box and the run in flight.
//
// A message starts a run (POST /conversations/{id}/runs, or POST /runs/{id}/resume
// when the workflow asked a question); its steps show live (runs.js). When the run
// settles, the conversation's new messages are read from its history: what is shown
// is always what was stored, and each message once.

import { ApiError, request } from "./api.js";
import { ConversationActions } from "./actions.js";
import { Attachments } from "./attachments.js";
import { messageElement, noticeElement, pendingElement } from "./render.js";
import { Progress, SETTLED, followRun, track, trackedRun } from "./runs.js";
import { absolute, describeTimes, expired, titleOf } from "./sidebar.js";

const TITLE_CHARS = 80;
const HISTORY_PAGE = 100;
const KEEP_LONGER = "Use Keep longer on a conversation to keep it past its expiry time.";

function titleFrom(text) {
  const line = text.split(/\s+/).join(" ").trim();
  return line.length <= TITLE_CHARS ? line : `${line.slice(0, TITLE_CHARS - 1)}…`;
}

const byId = (id) => document.getElementById(id);

/** An Idempotency-Key (crypto.randomUUID exists only on https and localhost pages). */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Chat {
  constructor(sidebar) {
    this.sidebar = sidebar;
    this.conversation = null;
    this.lastMessageId = 0;
    this.shownRuns = new Set();  // runs whose stored messages are shown
    this.question = null;      // {runId} while the last message is the workflow's question
    this.following = null;     // {conversationId, runId, controller} of the run in flight
    this.pendingText = "";
    this.opening = 0;          // bumped on every switch, so a slow answer for another one is dropped
    this.transcript = byId("transcript");
    this.welcome = byId("welcome");
    this.input = byId("message");
    this.sendButton = byId("send");
    this.progress = new Progress();
    this.actions = new ConversationActions(this);
    this.attachments = new Attachments(this);
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
    this.actions.render();
    this.attachments.show(conversation);
  }

  renderComposer() {
    this.sendButton.disabled = Boolean(this.following);
    byId("composer-hint").textContent = this.question
      ? "Answer the question above. Enter sends; Shift+Enter starts a new line."
      : "Enter sends; Shift+Enter starts a new line.";
    this.input.placeholder = this.question ? "Your answer" : "Describe your situation or ask a question";
  }

  /** The conversation as the API returned it after a change (rename, pin, keep longer). */
  adopt(conversation) {
    this.conversation = conversation;
    this.sidebar.upsert(conversation);
    this.renderHeader();
  }

  clearTranscript() {
    this.transcript.replaceChildren(this.welcome);
    this.welcome.hidden = false;
    this.lastMessageId = 0;
    this.question = null;
    this.shownRuns = new Set();
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
      if (message.metadata?.run_id) this.shownRuns.add(message.metadata.run_id);
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

  // --- opening ------------------------------------------------------------------------

  showNew() {
    this.stopFollowing();
    this.opening += 1;
    this.conversation = null;
    this.clearTranscript();
    this.progress.hide();
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
    this.progress.hide();
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
    const tracked = trackedRun(id);
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
      track(id, null);  // it finished while we were away: its messages came with the history
      return;
    }
    const said = run.input?.message ?? run.input?.resume;
    const text = typeof said === "string" ? said : JSON.stringify(said);
    // The message is stored with its run, so the history just read usually shows it already.
    if (this.shownRuns.has(tracked.runId)) this.pendingText = text;
    else this.showPending(text);
    this.follow(id, tracked.runId, { after: tracked.after || 0, steps: tracked.steps || [],
                                     resume: run.kind === "resume" });
  }

  /** The conversation is not there any more (expired or deleted): say so, start afresh. */
  gone(id) {
    const known = this.sidebar.get(id);
    this.sidebar.remove(id);
    track(id, null);
    this.showNew();
    history.replaceState(null, "", "#/");
    this.notice(known && expired(known)
      ? `That conversation has expired, and its messages are gone. ${KEEP_LONGER}`
      : `That conversation is no longer available: it expired or was deleted. ${KEEP_LONGER}`);
  }

  deleted(id) {
    track(id, null);
    this.sidebar.remove(id);
    this.showNew();
    history.replaceState(null, "", "#/");
    this.notice("Conversation deleted.");
    this.input.focus();
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
    this.attachments.status("");  // "Attached ...: ask your question" has been acted on
    this.sendButton.disabled = true;
    this.input.value = "";
    this.input.focus();  // Send is disabled while the run goes: the box keeps the focus
    this.showPending(text);
    let conversationId = this.conversation?.id;
    try {
      conversationId = (await this.ensureConversation(text)).id;
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

  /** The open conversation, created (titled from `text`) when this is a new one. Also the
   * hook for whatever needs a conversation before the first message (a document upload). */
  async ensureConversation(text) {
    if (this.conversation) return this.conversation;
    const created = await request("POST", "/conversations", { json: { title: titleFrom(text) } });
    this.conversation = created;
    this.sidebar.upsert(created);
    this.sidebar.setCurrent(created.id);
    history.replaceState(null, "", `#/c/${created.id}`);
    this.renderHeader();
    return created;
  }

  async startRun(conversationId, text) {
    if (!this.question) {
      return request("POST", `/conversations/${encodeURIComponent(conversationId)}/runs`, {
        json: { message: text }, headers: { "Idempotency-Key": newKey() },
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

  // --- the run in flight ------------------------------------------------------------------

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
    this.progress.show(steps, { resume });
    const outcome = await followRun(runId, {
      after, steps, signal: controller.signal,
      onStep: (nodes) => this.progress.show(nodes, { resume }),
      onEvent: (last, nodes) => track(conversationId, { runId, after: last, steps: nodes, resume }),
    });
    if (!outcome || this.following !== following) return;
    this.following = null;
    track(conversationId, null);
    await this.settled(conversationId, outcome, resume);
  }

  async settled(conversationId, outcome, resume) {
    this.progress.show(outcome.nodes, { outcome: outcome.kind, resume });
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
        ? "Something went wrong while answering. Your message is kept above and is back in the box: press Send to try again."
        : "That run stopped before it answered. Your message is kept above and is back in the box.";
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
}
