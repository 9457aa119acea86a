// The console's shell: sign-in, the navigation the person's roles open, the language switch
// and the page shown for the address's `#/<page>`.
import { h, message, show } from "./dom.js";
import { currentLanguage, onLanguageChange, preferredLanguage, setLanguage, t } from "./i18n.js";
import { ApiError, hasRole, onSessionChange, person, signIn, signOut } from "./session.js";
import { duplicates } from "./duplicates.js";
import { approvals } from "./approvals.js";
import { dashboard } from "./dashboard.js";

// Each page: its address, its label, the roles the API lets use it, and its view.
const PAGES = [
  { path: "dashboard", label: "nav.dashboard", roles: ["me_officer", "analyst", "admin"], view: dashboard },
  { path: "duplicates", label: "nav.duplicates", roles: ["data_manager", "admin"], view: duplicates },
  { path: "approvals", label: "nav.approvals", roles: ["finance_approver", "finance_officer", "admin"], view: approvals },
];

const elements = {
  main: document.getElementById("main"),
  signInView: document.getElementById("sign-in-view"),
  signInForm: document.getElementById("sign-in-form"),
  signInMessage: document.getElementById("sign-in-message"),
  view: document.getElementById("view"),
  nav: document.getElementById("nav"),
  navList: document.getElementById("nav-list"),
  user: document.getElementById("user"),
  userName: document.getElementById("user-name"),
  signOut: document.getElementById("sign-out"),
};
let current = null; // the page shown
let shownAddress = null; // the address it was opened at

function allowedPages() {
  return PAGES.filter((page) => hasRole(...page.roles));
}

function drawNavigation() {
  const route = currentRoute();
  show(
    elements.navList,
    allowedPages().map((page) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `#/${page.path}`, "aria-current": page.path === route ? "page" : null },
          t(page.label),
        ),
      ),
    ),
  );
  const someone = person();
  elements.userName.textContent = someone ? t("user.signedInAs", { name: someone.name }) : "";
}

// `#/<page>` or `#/<page>/<what in it>` (an indicator of the dashboard).
function currentRoute() {
  return location.hash.startsWith("#/") ? location.hash.slice(2).split("/")[0] : "";
}

function routeRest() {
  return location.hash.startsWith("#/") ? location.hash.slice(2).split("/").slice(1).join("/") : "";
}

function route() {
  if (!person()) return;
  const pages = allowedPages();
  const page = pages.find((p) => p.path === currentRoute());
  drawNavigation();
  if (!page) {
    if (pages.length > 0) {
      location.replace(`#/${pages[0].path}`);
      return;
    }
    current = null;
    show(elements.view, h("h1", { tabindex: "-1" }, t("home.title")), message("info", t("home.nothing")));
    return;
  }
  const changed = current !== page || shownAddress !== location.hash;
  current = page;
  shownAddress = location.hash;
  page.view.open(elements.view, routeRest()).then(() => {
    if (changed) elements.view.querySelector("h1")?.focus();
  });
}

function signedIn(someone) {
  elements.signInView.hidden = !!someone;
  elements.view.hidden = !someone;
  elements.nav.hidden = !someone;
  elements.user.hidden = !someone;
}

elements.signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(elements.signInForm);
  const button = elements.signInForm.querySelector("button[type=submit]");
  button.disabled = true;
  button.textContent = t("signIn.busy");
  show(elements.signInMessage);
  try {
    await signIn(String(form.get("username")), String(form.get("password")));
    elements.signInForm.reset();
  } catch (error) {
    const detail = error instanceof ApiError ? error.message : String(error);
    show(elements.signInMessage, message("error", detail));
    elements.signInForm.querySelector("#password").focus();
  } finally {
    button.disabled = false;
    button.textContent = t("signIn.submit");
  }
});

elements.signOut.addEventListener("click", () => signOut());

onSessionChange((someone, reason) => {
  signedIn(someone);
  if (someone) {
    route();
    return;
  }
  current = null;
  show(elements.view);
  const note = reason === "expired" ? t("signIn.expired") : t("signIn.signedOut");
  show(elements.signInMessage, message(reason === "expired" ? "error" : "info", note));
  elements.signInForm.querySelector("#username").focus();
});

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => setLanguage(button.dataset.lang));
}
onLanguageChange((code) => {
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === code));
  }
  if (person()) {
    drawNavigation();
    current?.view.draw();
  }
});

document.getElementById("skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  elements.main.focus();
});

window.addEventListener("hashchange", route);
setLanguage(preferredLanguage());
signedIn(null);
document.documentElement.dataset.ready = currentLanguage();
