// The web client's entry point: sign-in, the signed-in layout, and the address
// (#/c/<id> names the open conversation, #/case/<id> the open case, so a reload reopens it).

import {
  ApiError, confirmEmail, createAccount, onServiceStatus, onSignedOut, resumeSession, signIn, signOut,
} from "./api.js";
import { Cases } from "./cases.js";
import { Chat } from "./chat.js";
import { Notifications } from "./notifications.js";
import { Profile } from "./profile.js";
import { forgetTrackedRuns } from "./runs.js";
import { Sidebar } from "./sidebar.js";

const byId = (id) => document.getElementById(id);
const CONVERSATION_ROUTE = /^#\/c\/([0-9a-f-]{36})$/;
const CASE_ROUTE = /^#\/case\/([0-9a-f-]{36})$/;
// The link of a confirmation email: the token stays in the fragment, which is never sent to a server.
const CONFIRM_ROUTE = /^#\/confirm\/([A-Za-z0-9_-]+)$/;
const NARROW = window.matchMedia("(max-width: 760px)");

const sidebar = new Sidebar();
const chat = new Chat(sidebar);
const cases = new Cases();
const notifications = new Notifications();
const profile = new Profile();
let user = null;

function showServiceStatus(text) {
  const status = byId("service-status");
  status.textContent = text || "";
  status.classList.toggle("visible", Boolean(text));
}

function setSidebarOpen(open) {
  byId("sidebar").classList.toggle("open", open);
  byId("sidebar-toggle").setAttribute("aria-expanded", String(open));
}

function showSignIn(message = "", note = "") {
  user = null;
  chat.showNew();
  sidebar.clear();
  cases.clear();
  notifications.stop();
  profile.stop();
  byId("app-view").hidden = true;
  byId("account").hidden = true;
  byId("signin-view").hidden = false;
  byId("signin-error").textContent = message;
  byId("signin-note").textContent = note;
  byId("password").value = "";
  byId("email").focus();
}

async function showApp(person) {
  user = person;
  byId("signin-view").hidden = true;
  byId("signin-error").textContent = "";
  byId("whoami").textContent = person.email;
  byId("account").hidden = false;
  byId("app-view").hidden = false;
  setSidebarOpen(false);
  // The list loads while the address is followed, not before: a route taken after the list
  // came back could undo a navigation made meanwhile (and clear what it said).
  const listing = sidebar.load().then(() => null, (error) => error);
  cases.load().catch(() => {});  // the list says nothing when it cannot load; the case pages do
  notifications.start();
  await route();
  const unlisted = await listing;
  if (unlisted && !(unlisted instanceof ApiError && unlisted.status === 401)) {
    chat.notice(`Your conversations could not be listed: ${unlisted.message}`);
  }
  if (user) byId("message").focus();
}

async function route() {
  if (!user) return;
  const match = location.hash.match(CONVERSATION_ROUTE);
  const caseMatch = location.hash.match(CASE_ROUTE);
  if (NARROW.matches) setSidebarOpen(false);
  byId("chat").hidden = Boolean(caseMatch);
  byId("case-view").hidden = !caseMatch;
  try {
    if (caseMatch) await cases.open(caseMatch[1]);
    else if (match) await chat.open(match[1]);
    else chat.showNew();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    if (caseMatch) cases.notice(error.message);
    else chat.notice(error.message);
  }
}

async function signInWith(action) {
  const email = byId("email").value.trim();
  const password = byId("password").value;
  const error = byId("signin-error");
  if (!email || !password) {
    error.textContent = "Enter your email and a password.";
    (email ? byId("password") : byId("email")).focus();
    return;
  }
  if (action === createAccount && password.length < 8) {
    error.textContent = "Use a password of at least 8 characters.";
    byId("password").focus();
    return;
  }
  error.textContent = "";
  byId("signin-note").textContent = "";
  const buttons = byId("signin-form").querySelectorAll("button");
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const person = await action(email, password);
    byId("password").value = "";
    if (person.pending) {
      byId("signin-note").textContent = `We sent a link to ${person.pending}. Open it to finish creating your `
        + "account, then sign in here.";
      return;
    }
    await showApp(person);
  } catch (failure) {
    error.textContent = failure.message || "Something went wrong. Try again.";
    byId("password").focus();
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
  }
}

function wire() {
  byId("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signInWith(signIn);
  });
  byId("create-account").addEventListener("click", () => signInWith(createAccount));
  byId("sign-out").addEventListener("click", async () => {
    try {
      await signOut();
    } catch (error) {
      chat.notice(`Could not sign out: ${error.message}`);
      return;
    }
    forgetTrackedRuns();
    history.replaceState(null, "", "#/");
    showSignIn("You are signed out.");
  });
  byId("new-conversation").addEventListener("click", () => {
    if (location.hash && location.hash !== "#/") location.hash = "#/";
    else chat.showNew();
    if (NARROW.matches) setSidebarOpen(false);
    byId("message").focus();
  });
  byId("track").addEventListener("click", async () => {
    if (!chat.conversation) return;
    try {
      await cases.track(chat.conversation.id);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) chat.notice(error.message);
    }
  });
  byId("sidebar-toggle").addEventListener("click", () => {
    const open = !byId("sidebar").classList.contains("open");
    setSidebarOpen(open);
    if (open) byId("new-conversation").focus();
  });
  byId("sidebar").addEventListener("click", (event) => {
    // Choosing a conversation (even the one already open) closes the list on a narrow screen.
    if (event.target.closest("a") && NARROW.matches) setSidebarOpen(false);
  });
  window.addEventListener("hashchange", () => route());
  onServiceStatus(showServiceStatus);
  onSignedOut((reason) => { if (user) showSignIn(reason); });
}

async function start() {
  wire();
  // The refresh cookie is Secure: a browser keeps it only on https (and localhost).
  byId("insecure-note").hidden = window.isSecureContext;
  const confirming = location.hash.match(CONFIRM_ROUTE);
  if (confirming) {
    history.replaceState(null, "", "#/");  // the token is spent either way; keep it out of the history
    try {
      const created = await confirmEmail(confirming[1]);
      showSignIn("", "Your email is confirmed and your account is ready. Sign in with your password.");
      byId("email").value = created.email;
      byId("password").focus();
    } catch (error) {
      showSignIn(error.message);
    }
    return;
  }
  let person = null;
  try {
    person = await resumeSession();
  } catch (error) {
    showSignIn(error.message);
    return;
  }
  if (person) await showApp(person);
  else showSignIn();
}

start();
