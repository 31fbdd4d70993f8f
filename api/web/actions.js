// The open conversation's own actions: Rename, Pin, Keep longer, Export, Delete.

import { ApiError, download, request } from "./api.js";
import { absolute, titleOf } from "./sidebar.js";

const byId = (id) => document.getElementById(id);

export class ConversationActions {
  /** `chat` gives the open conversation and takes the updated one (`adopt`), or its loss (`gone`). */
  constructor(chat) {
    this.chat = chat;
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

  get conversation() { return this.chat.conversation; }

  /** The toolbar for the open conversation (none for a new one). */
  render() {
    const conversation = this.conversation;
    byId("chat-actions").hidden = !conversation;
    byId("pin").setAttribute("aria-pressed", String(Boolean(conversation?.pinned)));
    byId("pin").textContent = conversation?.pinned ? "Pinned" : "Pin";
    this.endRename();
  }

  async act(work) {
    this.chat.notice("");
    try {
      await work();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && this.conversation) return this.chat.gone(this.conversation.id);
      if (!(error instanceof ApiError && error.status === 401)) this.chat.notice(error.message);
    }
  }

  startRename() {
    byId("chat-actions").hidden = true;
    byId("rename-form").hidden = false;
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
      this.chat.notice("A title needs at least one character.");
      return;
    }
    return this.act(async () => {
      this.chat.adopt(await request("PATCH", `/conversations/${this.conversation.id}`, { json: { title } }));
      byId("rename").focus();
      this.chat.notice("Renamed.");
    });
  }

  togglePin() {
    return this.act(async () => {
      const pinned = !this.conversation.pinned;
      this.chat.adopt(await request("PATCH", `/conversations/${this.conversation.id}`, { json: { pinned } }));
      this.chat.notice(pinned ? "Pinned: it stays at the top of your list." : "Unpinned.");
    });
  }

  extend() {
    return this.act(async () => {
      this.chat.adopt(await request("POST", `/conversations/${this.conversation.id}/extend`));
      this.chat.notice(`Kept until ${absolute(this.conversation.expires_at)}.`);
    });
  }

  exportConversation() {
    return this.act(async () => {
      const slug = titleOf(this.conversation).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40);
      await download(`/conversations/${this.conversation.id}/export`, `conversation-${slug || "export"}.json`);
      this.chat.notice("Export downloaded.");
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
      this.chat.stopFollowing();  // its run goes with it
      await request("DELETE", `/conversations/${id}`);
      this.chat.deleted(id);
    });
  }
}
