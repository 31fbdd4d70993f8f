// The open conversation's documents (the slot #attachments in the message box): upload one
// (POST /documents: the file, what it is, the conversation), see each with what was read from
// it, delete one. A new conversation is created first (Chat.ensureConversation), so the
// letter is there before the first question. Errors say what to do: too large (with the
// limit, checked before sending), not a PDF or text, encrypted, a scan without text, damaged.

import { ApiError, request } from "./api.js";

const byId = (id) => document.getElementById(id);
const KIND_LABELS = {
  denial_letter: "Denial letter", decision_letter: "Appeal decision letter",
  explanation_of_benefits: "Explanation of benefits", summary_of_benefits: "Summary of benefits",
  policy: "Policy document", bill: "Bill", other: "Document",
};
const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeZone: "UTC" });
const PAGE = 100;

/** "2026-03-03" as a person reads it; anything else as given. */
function day(iso) {
  return /^\d{4}-\d{2}-\d{2}$/.test(iso || "") ? DATE.format(new Date(`${iso}T12:00:00Z`)) : iso;
}

/** 10485760 -> "10 MB" (what a file manager shows for the same size). */
export function megabytes(bytes) {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

/** The few facts a person checks at a glance, by kind of document. */
export function keyFacts(document) {
  const f = document.facts || {};
  const parts = [];
  if (document.kind === "denial_letter" || document.kind === "decision_letter") {
    const what = f.drug || f.service;
    if (what) parts.push(what);
    if (f.denial_date) parts.push(`dated ${day(f.denial_date)}`);
    if (f.appeal_deadline) parts.push(`appeal by ${day(f.appeal_deadline)}`);
    if (f.claim_number) parts.push(`claim ${f.claim_number}`);
  } else if (document.kind === "summary_of_benefits" || document.kind === "policy") {
    if (f.network_type) parts.push(`${f.network_type} plan`);
    if (f.deductible) parts.push(`deductible ${f.deductible}`);
    if (f.out_of_pocket_max) parts.push(`out-of-pocket maximum ${f.out_of_pocket_max}`);
  } else if (document.kind === "explanation_of_benefits" || document.kind === "bill") {
    if (f.service) parts.push(f.service);
    if (f.billed) parts.push(`billed ${f.billed}`);
    if (f.owed) parts.push(`you owe ${f.owed}`);
    if (f.claim_number) parts.push(`claim ${f.claim_number}`);
  }
  if (!parts.length) parts.push(document.pages === 1 ? "1 page" : `${document.pages} pages`);
  return parts.join(" · ");
}

export class Attachments {
  /** `chat` gives the open conversation (and creates it on the first upload). */
  constructor(chat) {
    this.chat = chat;
    this.conversationId = null;
    this.documents = [];
    this.maxBytes = null;     // DOCUMENT_MAX_BYTES, learned from the first listing
    this.loading = 0;         // bumped on every switch, so a slow list for another conversation is dropped
    this.busy = false;
    this.toggleButton = byId("attach-toggle");
    this.panel = byId("attach-panel");
    this.fileInput = byId("document-file");
    this.toggleButton.addEventListener("click", () => this.setOpen(this.panel.hidden));
    byId("attach-cancel").addEventListener("click", () => this.setOpen(false));
    byId("upload-document").addEventListener("click", () => this.upload());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.setOpen(false);
      }
    });
  }

  error(text) { byId("document-error").textContent = text || ""; }
  status(text) { byId("document-status").textContent = text || ""; }

  setOpen(open) {
    const focusBack = !open && this.panel.contains(document.activeElement);
    this.panel.hidden = !open;
    this.toggleButton.setAttribute("aria-expanded", String(open));
    if (open) {
      this.error("");
      this.status("");
      this.fileInput.focus();
      this.limit().then(() => this.renderHint());
    } else if (focusBack) {
      this.toggleButton.focus();
    }
  }

  /** Called whenever the chat shows a conversation (null: a new one); lists its documents once. */
  show(conversation) {
    const id = conversation?.id || null;
    if (id === this.conversationId) return;
    this.conversationId = id;
    this.documents = [];
    this.error("");
    this.status("");
    this.setOpen(false);
    this.render();
    if (id) this.load(id).catch(() => {});  // a list that cannot load says so in the error line
  }

  async load(id) {
    const loading = ++this.loading;
    try {
      const page = await request("GET", `/documents?conversation_id=${encodeURIComponent(id)}&limit=${PAGE}`);
      if (loading !== this.loading || id !== this.conversationId) return;
      this.maxBytes = page.max_bytes;
      this.documents = page.items;
      this.render();
      this.renderHint();
    } catch (error) {
      if (loading !== this.loading) return;
      if (error instanceof ApiError && (error.status === 401 || error.status === 404)) return;  // handled elsewhere
      this.error(`Your documents could not be listed: ${error.message}`);
    }
  }

  /** The upload limit, asked for once when no list has said it yet (a new conversation). */
  async limit() {
    if (this.maxBytes === null) {
      try {
        this.maxBytes = (await request("GET", "/documents?limit=1")).max_bytes;
      } catch {
        return null;  // the server checks it anyway
      }
    }
    return this.maxBytes;
  }

  renderHint() {
    if (!this.maxBytes) return;
    byId("document-hint").textContent = `A PDF or text file up to ${megabytes(this.maxBytes)}: a denial letter, `
      + "an explanation of benefits, your plan's summary of benefits. The navigator reads it before it answers.";
  }

  render() {
    const list = byId("document-list");
    list.replaceChildren(...this.documents.map((d) => this.entry(d)));
    list.hidden = this.documents.length === 0;
    this.toggleButton.textContent = this.documents.length ? "Attach another document" : "Attach a document";
  }

  entry(document_) {
    const li = document.createElement("li");
    li.className = "document";
    const text = document.createElement("div");
    text.className = "document-text";
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = `${KIND_LABELS[document_.kind] || "Document"}: ${document_.filename}`;
    const facts = document.createElement("span");
    facts.className = "meta";
    facts.textContent = keyFacts(document_);
    text.append(title, facts);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "danger";
    remove.textContent = "Delete";
    remove.setAttribute("aria-label", `Delete ${document_.filename}`);
    remove.addEventListener("click", () => this.confirmDelete(document_, remove));
    li.append(text, remove);
    return li;
  }

  /** What the person reads when the upload is refused; the server's detail says what to do. */
  refusal(error, file) {
    if (!(error instanceof ApiError)) return error.message;
    if (error.status === 413) return this.tooLarge(file);
    if ((error.status === 415 || error.status === 422) && typeof error.detail === "string") {
      return `${file.name} cannot be used. ${error.detail}`;
    }
    return error.message;
  }

  tooLarge(file) {
    const limit = this.maxBytes ? `the ${megabytes(this.maxBytes)} limit` : "the upload limit";
    let size = megabytes(file.size);
    if (this.maxBytes && size === megabytes(this.maxBytes)) size = `${(file.size / (1024 * 1024)).toFixed(2)} MB`;
    return `${file.name} is ${size}, larger than ${limit}. Upload only the pages that matter `
      + "(most letters are one or two pages), or type the key facts into the conversation.";
  }

  async upload() {
    if (this.busy) return;
    const file = this.fileInput.files[0];
    this.error("");
    this.status("");
    if (!file) {
      this.error("Choose a file first: a PDF or a text file.");
      this.fileInput.focus();
      return;
    }
    const limit = await this.limit();
    if (limit !== null && file.size > limit) {
      this.error(this.tooLarge(file));
      this.fileInput.focus();
      return;
    }
    const kind = byId("document-kind").value;
    this.busy = true;
    byId("upload-document").disabled = true;
    this.status(`Uploading ${file.name}…`);
    try {
      const said = this.chat.input.value.trim();
      const conversation = await this.chat.ensureConversation(said || `${KIND_LABELS[kind] || "Document"}: ${file.name}`);
      const form = new FormData();
      form.append("file", file, file.name);
      if (kind) form.append("kind", kind);
      form.append("conversation_id", conversation.id);
      // The same bytes are stored once (a second POST returns the stored one), so a retry is safe.
      const stored = await request("POST", "/documents", { body: form, retryNetwork: true });
      if (this.chat.conversation?.id !== conversation.id) return;  // the person moved on meanwhile
      this.loading += 1;  // a list asked for before this upload must not hide it
      this.conversationId = conversation.id;
      this.documents = [stored, ...this.documents.filter((d) => d.id !== stored.id)];
      this.render();
      this.fileInput.value = "";
      byId("document-kind").value = "";
      this.setOpen(false);
      this.status(`Attached ${stored.filename} (${(KIND_LABELS[stored.kind] || "document").toLowerCase()}). `
        + "The navigator reads it in this conversation: ask your question.");
      this.chat.input.focus();
    } catch (error) {
      this.status("");
      if (error instanceof ApiError && error.status === 401) return;
      if (error instanceof ApiError && error.status === 404 && this.chat.conversation) {
        this.chat.gone(this.chat.conversation.id);
        return;
      }
      this.error(this.refusal(error, file));
      this.fileInput.focus();
    } finally {
      this.busy = false;
      byId("upload-document").disabled = false;
    }
  }

  confirmDelete(document_, button) {
    const dialog = byId("confirm-document-delete");
    byId("confirm-document-delete-text").textContent = `${document_.filename} is deleted for good: the file, `
      + "its text and what was read from it, in every conversation it is attached to.";
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "delete") this.remove(document_);
      else button.focus();
    }, { once: true });
    dialog.showModal();
  }

  async remove(document_) {
    this.error("");
    try {
      await request("DELETE", `/documents/${encodeURIComponent(document_.id)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      if (!(error instanceof ApiError && error.status === 404)) {  // 404: deleted already (another tab)
        this.error(`${document_.filename} could not be deleted: ${error.message}`);
        return;
      }
    }
    this.documents = this.documents.filter((d) => d.id !== document_.id);
    this.render();
    this.status(`Deleted ${document_.filename}.`);
    this.toggleButton.focus();
  }
}
