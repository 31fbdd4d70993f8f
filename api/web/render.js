// Messages to DOM. Every piece of text goes in through textContent or a text node,
// never as HTML: a message holding <script> or <img onerror> shows as those characters.
// The answer's plain-text layout (a "Heading:" line, numbered steps, "- " items,
// <https://...> sources) becomes headings, lists and links.

const URL_PATTERN = /<?(https?:\/\/[^\s<>"]+)>?/g;
const PHONE_PATTERN = /\b1-\d{3}-\d{3}-\d{4}\b/g;
const URGENT_NUMBERS = /\b(911|988)\b/;
const NUMBERED = /^\s*(\d+)[.)]\s+(.*)$/;
const BULLET = /^\s*[-*•]\s+(.*)$/;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function link(href, text) {
  const a = el("a", null, text);
  a.href = href;
  if (href.startsWith("http")) {
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
  return a;
}

/** Text with its web addresses and toll-free numbers as links, as DOM nodes. */
export function inline(text) {
  const fragment = document.createDocumentFragment();
  const pieces = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[1];
    const trailing = url.match(/[.,;:)\]]+$/);
    if (trailing) url = url.slice(0, -trailing[0].length);
    pieces.push({ start: match.index, end: match.index + match[0].length - (trailing ? trailing[0].length : 0),
                  node: () => link(url, url) });
  }
  for (const match of text.matchAll(PHONE_PATTERN)) {
    if (pieces.some((p) => match.index >= p.start && match.index < p.end)) continue;
    pieces.push({ start: match.index, end: match.index + match[0].length,
                  node: () => link(`tel:${match[0].replace(/-/g, "")}`, match[0]) });
  }
  pieces.sort((a, b) => a.start - b.start);
  let at = 0;
  for (const piece of pieces) {
    if (piece.start < at) continue;
    fragment.append(document.createTextNode(text.slice(at, piece.start)), piece.node());
    at = piece.end;
  }
  fragment.append(document.createTextNode(text.slice(at)));
  return fragment;
}

function sectionClass(heading) {
  const name = heading.toLowerCase();
  if (name.startsWith("deadline")) return "section deadlines";
  if (name.startsWith("source")) return "section sources";
  if (name.startsWith("who to contact")) return "section contacts";
  return "section";
}

/** One block (text between blank lines): an optional "Heading:" line, then lists and paragraphs. */
function block(text) {
  const lines = text.split("\n").filter((line) => line.trim());
  const first = lines[0] || "";
  const headed = lines.length > 1 && first.trim().endsWith(":") && !NUMBERED.test(first) && !BULLET.test(first);
  const container = el("section", headed ? sectionClass(first) : "section");
  if (headed) container.append(el("h3", null, first.trim().slice(0, -1)));
  let list = null;
  for (const line of headed ? lines.slice(1) : lines) {
    const numbered = line.match(NUMBERED);
    const bullet = numbered ? null : line.match(BULLET);
    const kind = numbered ? "OL" : bullet ? "UL" : null;
    if (!kind) {
      list = null;
      const p = el("p");
      p.append(inline(line.trim()));
      container.append(p);
      continue;
    }
    if (!list || list.tagName !== kind) {
      list = el(kind.toLowerCase());
      if (numbered) list.start = Number(numbered[1]);
      container.append(list);
    }
    const item = el("li");
    item.append(inline((numbered ? numbered[2] : bullet[1]).trim()));
    list.append(item);
  }
  return container;
}

/** The formatted body of a message. */
export function formatText(text) {
  const body = el("div", "body");
  for (const part of text.replace(/\r\n?/g, "\n").split(/\n\s*\n/)) {
    if (part.trim()) body.append(block(part));
  }
  return body;
}

/** A safety reply: the guard's, or any answer that opens with 911 or 988. */
export function isUrgent(message) {
  if (message.role !== "assistant") return false;
  const lead = message.content.split(/\n\s*\n/)[0];
  return URGENT_NUMBERS.test(message.agent_name === "guard" ? message.content : lead);
}

function urgentCallout(text) {
  const box = el("div", "urgent-callout");
  box.append(el("p", "urgent-title", "Urgent: get help now"));
  const actions = el("p", "urgent-actions");
  if (/\b988\b/.test(text)) actions.append(link("tel:988", "Call or text 988"));
  if (/\b911\b/.test(text)) actions.append(link("tel:911", "Call 911"));
  box.append(actions);
  return box;
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A message as an article of the transcript. */
export function messageElement(message) {
  const question = message.role === "assistant" && message.metadata?.interrupt === true;
  const urgent = isUrgent(message);
  const who = message.role === "user" ? "You" : question ? "Navigator asks" : "Navigator";
  const article = el("article", `message ${message.role}${question ? " question" : ""}${urgent ? " urgent" : ""}`);
  if (message.id !== undefined) article.dataset.messageId = String(message.id);
  // A heading per message (h2 under the conversation's h1), so screen readers can jump
  // from message to message; the answer's sections are h3 under it.
  const header = el("h2", "who", who);
  if (message.created_at) {
    const time = el("time", "when", TIME.format(new Date(message.created_at)));
    time.dateTime = message.created_at;
    header.append(" ", time);
  }
  article.append(header);
  if (urgent) article.append(urgentCallout(message.content));
  article.append(message.role === "user" ? plainBody(message.content) : formatText(message.content));
  return article;
}

function plainBody(text) {
  const body = el("div", "body");
  body.append(el("p", "plain", text));
  return body;
}

/** The person's message while its run is still going. */
export function pendingElement(text) {
  const article = messageElement({ role: "user", content: text });
  article.classList.add("pending");
  article.querySelector(".who").append(" ", el("span", "sending", "(sending…)"));
  return article;
}

/** A line from the client itself in the transcript (an error, say). */
export function noticeElement(text) {
  const article = el("article", "message system");
  article.append(el("h2", "who", "Notice"), plainBody(text));
  return article;
}
