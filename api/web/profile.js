// "Your plan": the profile (GET|PUT /me/profile) the navigator treats as known in every
// conversation, so it never asks for the plan type again; what the person says in a
// conversation still comes first. Opened from the top bar.

import { ApiError, request } from "./api.js";

const byId = (id) => document.getElementById(id);
const STATES = [
  ["AL", "Alabama"], ["AK", "Alaska"], ["AZ", "Arizona"], ["AR", "Arkansas"], ["CA", "California"],
  ["CO", "Colorado"], ["CT", "Connecticut"], ["DE", "Delaware"], ["DC", "District of Columbia"], ["FL", "Florida"],
  ["GA", "Georgia"], ["HI", "Hawaii"], ["ID", "Idaho"], ["IL", "Illinois"], ["IN", "Indiana"], ["IA", "Iowa"],
  ["KS", "Kansas"], ["KY", "Kentucky"], ["LA", "Louisiana"], ["ME", "Maine"], ["MD", "Maryland"],
  ["MA", "Massachusetts"], ["MI", "Michigan"], ["MN", "Minnesota"], ["MS", "Mississippi"], ["MO", "Missouri"],
  ["MT", "Montana"], ["NE", "Nebraska"], ["NV", "Nevada"], ["NH", "New Hampshire"], ["NJ", "New Jersey"],
  ["NM", "New Mexico"], ["NY", "New York"], ["NC", "North Carolina"], ["ND", "North Dakota"], ["OH", "Ohio"],
  ["OK", "Oklahoma"], ["OR", "Oregon"], ["PA", "Pennsylvania"], ["PR", "Puerto Rico"], ["RI", "Rhode Island"],
  ["SC", "South Carolina"], ["SD", "South Dakota"], ["TN", "Tennessee"], ["TX", "Texas"], ["UT", "Utah"],
  ["VT", "Vermont"], ["VA", "Virginia"], ["WA", "Washington"], ["WV", "West Virginia"], ["WI", "Wisconsin"],
  ["WY", "Wyoming"],
];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
  "November", "December"];
const TEXT_FIELDS = ["insurer", "plan_name", "plan_through"];

function option(value, label) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  return element;
}

function fill(select, entries) {
  select.append(...entries.map(([value, label]) => option(value, label)));
}

export class Profile {
  constructor() {
    this.toggleButton = byId("profile-toggle");
    this.panel = byId("profile-panel");
    this.saving = false;
    fill(byId("profile-state"), STATES.map(([code, name]) => [code, name]));
    fill(byId("profile-renewal-month"), MONTHS.map((name, index) => [String(index + 1), name]));
    this.toggleButton.addEventListener("click", () => this.setOpen(this.panel.hidden));
    byId("profile-close").addEventListener("click", () => this.setOpen(false));
    byId("profile-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.setOpen(false);
    });
  }

  notice(text) { byId("profile-status").textContent = text || ""; }
  error(text) { byId("profile-error").textContent = text || ""; }

  /** Opens with the saved plan in place (read first, so what the person types is never overwritten). */
  async setOpen(open) {
    if (open) {
      this.notice("");
      this.error("");
      this.toggleButton.setAttribute("aria-busy", "true");
      await this.load();
      this.toggleButton.removeAttribute("aria-busy");
    }
    const focusBack = !open && this.panel.contains(document.activeElement);
    this.panel.hidden = !open;
    this.toggleButton.setAttribute("aria-expanded", String(open));
    if (open) byId("profile-plan-type").focus();
    else if (focusBack) this.toggleButton.focus();
  }

  /** Signed out: the panel closes and forgets what it showed. */
  stop() {
    this.panel.hidden = true;
    this.toggleButton.setAttribute("aria-expanded", "false");
    byId("profile-form").reset();
    this.notice("");
    this.error("");
  }

  async load() {
    let profile;
    try {
      profile = await request("GET", "/me/profile");
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) this.error(`Your plan could not be read: ${error.message}`);
      return;
    }
    this.show(profile);
  }

  show(profile) {
    byId("profile-plan-type").value = profile.plan_type || "";
    for (const name of TEXT_FIELDS) byId(`profile-${name.replaceAll("_", "-")}`).value = profile[name] || "";
    byId("profile-state").value = profile.state || "";
    byId("profile-renewal-month").value = profile.renewal_month ? String(profile.renewal_month) : "";
    byId("profile-language").value = profile.preferred_language || "";
  }

  /** The whole profile (PUT replaces it): an empty field is cleared. */
  read() {
    const value = (id) => byId(id).value.trim() || null;
    const profile = {
      plan_type: value("profile-plan-type"),
      state: value("profile-state"),
      preferred_language: value("profile-language"),
      renewal_month: value("profile-renewal-month") ? Number(byId("profile-renewal-month").value) : null,
    };
    for (const name of TEXT_FIELDS) profile[name] = value(`profile-${name.replaceAll("_", "-")}`);
    return profile;
  }

  async save() {
    if (this.saving) return;
    this.notice("");
    this.error("");
    // Not disabled while it saves: a disabled button drops the keyboard focus to the page.
    this.saving = true;
    try {
      this.show(await request("PUT", "/me/profile", {
        json: this.read(),
        messages: { 422: "Check the fields: each name or phrase can be up to 200 characters." },
      }));
      this.notice("Saved. Every conversation now starts from your plan; what you say in a conversation still "
        + "comes first.");
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) this.error(error.message);
    } finally {
      this.saving = false;
    }
  }
}
