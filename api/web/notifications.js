// Notifications: the unread count in the top bar and the panel it opens (what the cases told
// the person, newest first), read when looked at or all at once. Looked for again every minute.

import { ApiError, request } from "./api.js";
import { absolute } from "./sidebar.js";

const byId = (id) => document.getElementById(id);
const REFRESH_MS = 60_000;

export class Notifications {
  constructor() {
    this.timer = null;
    byId("notifications-toggle").addEventListener("click", () => this.toggle());
    byId("mark-all-read").addEventListener("click", () => this.markAllRead());
  }

  start() {
    this.stop();
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    byId("notifications-panel").hidden = true;
    byId("notifications-toggle").setAttribute("aria-expanded", "false");
    byId("unread-count").textContent = "";
  }

  async refresh() {
    let page;
    try {
      page = await request("GET", "/me/notifications?limit=20");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return;  // the status line says why; the next refresh tries again
    }
    byId("unread-count").textContent = page.unread ? String(page.unread) : "";
    byId("notifications-toggle").setAttribute("aria-label", page.unread ? `Notifications, ${page.unread} unread` : "Notifications");
    byId("no-notifications").hidden = page.items.length > 0;
    byId("notification-list").replaceChildren(...page.items.map((n) => this.entry(n)));
  }

  entry(notification) {
    const li = document.createElement("li");
    li.className = notification.read ? "notification" : "notification unread";
    const title = document.createElement("p");
    title.className = "title";
    title.textContent = notification.title;
    const body = document.createElement("p");
    body.textContent = notification.body;
    const when = document.createElement("p");
    when.className = "meta";
    when.textContent = absolute(notification.created_at);
    const actions = document.createElement("div");
    actions.className = "toolbar";
    if (notification.case_id) {
      const open = document.createElement("a");
      open.href = `#/case/${notification.case_id}`;
      open.textContent = "Open the case";
      actions.append(open);
    }
    if (!notification.read) {
      const read = document.createElement("button");
      read.type = "button";
      read.textContent = "Mark read";
      read.addEventListener("click", () => this.markRead(notification.id));
      actions.append(read);
    }
    li.append(title, body, when, actions);
    return li;
  }

  toggle() {
    const panel = byId("notifications-panel");
    panel.hidden = !panel.hidden;
    byId("notifications-toggle").setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) this.refresh();
  }

  async markRead(id) {
    await request("PATCH", `/me/notifications/${id}`, { json: { read: true } });
    await this.refresh();
  }

  async markAllRead() {
    await request("POST", "/me/notifications/read");
    await this.refresh();
  }
}
