// The conversation list (the nav labelled "Conversations"): pinned ones first, then the
// rest newest first, each with its last activity and when it expires.

import { request } from "./api.js";

const PAGE = 50;
const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const ABSOLUTE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "in 24 hours", "5 minutes ago": hours up to two days, so a day's TTL reads exactly. */
export function relative(date, now = Date.now()) {
  const minutes = Math.round((new Date(date).getTime() - now) / 60000);
  if (minutes === 0) return now > new Date(date).getTime() ? "just now" : "in less than a minute";
  const hours = Math.round(minutes / 60);
  if (Math.abs(minutes) < 60) return RELATIVE.format(minutes, "minute");
  if (Math.abs(hours) < 48) return RELATIVE.format(hours, "hour");
  return RELATIVE.format(Math.round(hours / 24), "day");
}

export const absolute = (date) => ABSOLUTE.format(new Date(date));

export function titleOf(conversation) {
  return conversation?.title?.trim() || "Untitled conversation";
}

export function expired(conversation) {
  return new Date(conversation.expires_at).getTime() <= Date.now();
}

/** "Active 5 minutes ago · Expires in 23 hours" */
export function describeTimes(conversation) {
  return `Active ${relative(conversation.updated_at)} · Expires ${relative(conversation.expires_at)}`;
}

export class Sidebar {
  constructor() {
    this.items = new Map();
    this.changes = null;  // while a load is on its way: what changed here meanwhile
    this.currentId = null;
    this.nextCursor = null;
    this.pinnedList = document.getElementById("pinned-list");
    this.recentList = document.getElementById("recent-list");
    this.more = document.getElementById("more-conversations");
    this.more.addEventListener("click", () => this.loadMore());
  }

  get(id) { return this.items.get(id) || null; }

  clear() {
    this.items = new Map();
    this.changes = null;
    this.currentId = null;
    this.nextCursor = null;
    this.render();
  }

  /** Every pinned conversation, and the first page of the others. What changed here while the
   * list was on its way (a conversation created, renamed or deleted meanwhile) is kept. */
  async load() {
    const changes = { upserted: new Map(), removed: new Set() };
    this.changes = changes;
    let pinned;
    let recent;
    try {
      [pinned, recent] = await Promise.all([
        request("GET", "/conversations?pinned=true&limit=100"),
        request("GET", `/conversations?pinned=false&limit=${PAGE}`),
      ]);
    } finally {
      if (this.changes === changes) this.changes = null;
    }
    const fresh = new Map([...pinned.items, ...recent.items].map((c) => [c.id, c]));
    for (const [id, conversation] of changes.upserted) fresh.set(id, conversation);
    for (const id of changes.removed) fresh.delete(id);
    this.items = fresh;
    this.nextCursor = recent.next_cursor;
    this.render();
  }

  async loadMore() {
    if (!this.nextCursor) return;
    const page = await request("GET", `/conversations?pinned=false&limit=${PAGE}&cursor=${encodeURIComponent(this.nextCursor)}`);
    for (const conversation of page.items) this.items.set(conversation.id, conversation);
    this.nextCursor = page.next_cursor;
    this.render();
  }

  upsert(conversation) {
    this.items.set(conversation.id, conversation);
    this.changes?.upserted.set(conversation.id, conversation);
    this.changes?.removed.delete(conversation.id);
    this.render();
  }

  remove(id) {
    this.items.delete(id);
    this.changes?.upserted.delete(id);
    this.changes?.removed.add(id);
    this.render();
  }

  setCurrent(id) {
    this.currentId = id;
    this.render();
  }

  render() {
    const all = [...this.items.values()].filter((c) => !expired(c));
    // Newest first, as the API lists them (a new conversation is the newest).
    all.sort((a, b) => b.created_at.localeCompare(a.created_at));
    const pinned = all.filter((c) => c.pinned);
    const recent = all.filter((c) => !c.pinned);
    this.pinnedList.replaceChildren(...pinned.map((c) => this.entry(c)));
    this.recentList.replaceChildren(...recent.map((c) => this.entry(c)));
    document.getElementById("pinned-section").hidden = pinned.length === 0;
    document.getElementById("no-conversations").hidden = recent.length > 0 || pinned.length > 0;
    this.more.hidden = !this.nextCursor;
  }

  entry(conversation) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `#/c/${conversation.id}`;
    link.className = "conversation-link";
    if (conversation.id === this.currentId) link.setAttribute("aria-current", "page");
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = titleOf(conversation);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = describeTimes(conversation);
    meta.title = `Last activity ${absolute(conversation.updated_at)}; expires ${absolute(conversation.expires_at)}`;
    link.append(title, meta);
    item.append(link);
    return item;
  }
}
