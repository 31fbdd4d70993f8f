// Cases: the list in the sidebar, the open case (#/case/<id>): its next step, deadlines,
// reminders and timeline, the drafted letter, and what the person tells it (filed, a
// decision, closed). "Track this" in a conversation opens a case from it.

import { ApiError, download, request, sleep } from "./api.js";
import { absolute } from "./sidebar.js";

const byId = (id) => document.getElementById(id);
const WAIT = 10;              // seconds the API may wait for the case to take in what it was told
const POLL_MS = 1000;         // while the case is still processing something
const POLL_TRIES = 30;
const STAGES = {
  gathering: "Gathering facts", drafted: "Letter ready", filed: "Filed", waiting_for_decision: "Waiting for the decision",
  decided: "Decided: next step open", external_review_filed: "External review filed", closed: "Closed",
};
const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeZone: "UTC" });
const day = (iso) => DATE.format(new Date(`${iso}T12:00:00Z`));
const today = () => new Date().toISOString().slice(0, 10);

function item(text, className) {
  const li = document.createElement("li");
  if (className) li.className = className;
  li.textContent = text;
  return li;
}

export class Cases {
  constructor() {
    this.items = [];
    this.current = null;
    this.opening = 0;
    byId("letter-pdf").addEventListener("click", () => this.letter("pdf"));
    byId("letter-text").addEventListener("click", () => this.letter("text"));
    byId("filed-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.tell({ type: "filed", date: byId("filed-date").value || today(), method: byId("filed-method").value });
    });
    byId("decision-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.tell({ type: "decision", outcome: byId("decision-outcome").value, date: byId("decision-date").value || today() });
    });
    byId("close-case").addEventListener("click", () => this.tell({ type: "closed", reason: "closed by you" }));
    byId("delete-case").addEventListener("click", () => this.remove());
  }

  notice(text) { byId("case-notice").textContent = text || ""; }

  async load() {
    const page = await request("GET", "/cases?limit=100");
    this.items = page.items;
    this.renderList();
  }

  clear() {
    this.items = [];
    this.current = null;
    this.renderList();
  }

  renderList() {
    const list = byId("case-list");
    list.replaceChildren(...this.items.map((c) => {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = `#/case/${c.id}`;
      link.className = "conversation-link";
      if (c.id === this.current?.id) link.setAttribute("aria-current", "page");
      const title = document.createElement("span");
      title.className = "title";
      title.textContent = c.title;
      const meta = document.createElement("span");
      meta.className = "meta";
      const next = c.next_deadline ? ` · ${c.next_deadline.label} by ${day(c.next_deadline.due)}` : "";
      meta.textContent = `${STAGES[c.stage] || c.stage}${next}`;
      link.append(title, meta);
      li.append(link);
      return li;
    }));
    byId("no-cases").hidden = this.items.length > 0;
  }

  /** Show the case; while it is still taking something in, look again until it has. */
  async open(id) {
    const opening = ++this.opening;
    this.notice("");
    let found = await request("GET", `/cases/${id}`);
    if (opening !== this.opening) return;
    this.show(found);
    for (let tries = 0; found.processing && tries < POLL_TRIES; tries += 1) {
      await sleep(POLL_MS);
      if (opening !== this.opening) return;
      found = await request("GET", `/cases/${id}`);
      if (opening !== this.opening) return;
      this.show(found);
    }
  }

  show(found) {
    this.current = found;
    const index = this.items.findIndex((c) => c.id === found.id);
    if (index >= 0) this.items[index] = found; else this.items.unshift(found);
    this.renderList();
    byId("case-title").textContent = found.title;
    const level = found.level_label ? ` · ${found.level_label}` : "";
    byId("case-meta").textContent = `${STAGES[found.stage] || found.stage}${level} · opened ${absolute(found.created_at)}`
      + (found.processing ? " · updating…" : "");
    byId("case-next").textContent = found.next_action?.text || "";
    byId("letter-actions").hidden = !found.letter;
    byId("case-tell").hidden = found.stage === "closed";
    byId("case-deadlines").replaceChildren(...(found.deadlines.length ? found.deadlines.map((d) => item(
      `${d.label}: ${day(d.due)} (${d.rule}) — ${d.status}`, `status-${d.status}`)) : [item("None yet: the case needs the facts above.")]));
    byId("case-timers").replaceChildren(...(found.timers.length ? found.timers.map((t) => item(
      `${t.purpose.replace("_", " ")} on ${absolute(t.due_at)} — ${t.status}`)) : [item("None armed.")]));
    byId("case-timeline").replaceChildren(...found.timeline.map((e) => {
      const li = item(e.text);
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = ` (${absolute(e.at)})`;
      li.append(when);
      return li;
    }));
    for (const id of ["filed-date", "decision-date"]) if (!byId(id).value) byId(id).value = today();
  }

  async act(work) {
    this.notice("");
    try {
      await work();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) this.notice(error.message);
    }
  }

  tell(event) {
    const id = this.current?.id;
    if (!id) return Promise.resolve();
    return this.act(async () => {
      const told = await request("POST", `/cases/${id}/events?wait=${WAIT}`, { json: event });
      if (told.case) this.show(told.case);
      else await this.open(id);
      this.notice("Noted.");
    });
  }

  letter(format) {
    const found = this.current;
    if (!found?.letter) return Promise.resolve();
    const name = found.letter.title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    return this.act(() => download(`/cases/${found.id}/letter?format=${format}`, `${name}.${format === "pdf" ? "pdf" : "txt"}`));
  }

  remove() {
    const id = this.current?.id;
    if (!id) return Promise.resolve();
    return this.act(async () => {
      await request("DELETE", `/cases/${id}`);
      this.items = this.items.filter((c) => c.id !== id);
      this.current = null;
      this.renderList();
      location.hash = "#/";
    });
  }

  /** "Track this": a case from the open conversation (its topic, facts and documents). */
  async track(conversationId) {
    const opened = await request("POST", `/cases?wait=${WAIT}`, { json: { conversation_id: conversationId } });
    this.show(opened);
    location.hash = `#/case/${opened.id}`;
  }
}
