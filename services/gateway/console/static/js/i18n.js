// The console's labels in French and English, and the language switch. The API's own
// messages (a problem's `detail`) are shown as the API wrote them.

const DICTIONARIES = {
  fr: {
    "app.title": "Console INDS",
    "app.skip": "Aller au contenu",
    "nav.label": "Navigation principale",
    "nav.duplicates": "Doublons",
    "nav.approvals": "Approbation des paiements",
    "lang.label": "Langue",
    "user.signedInAs": "Connecté : {name}",
    "user.signOut": "Se déconnecter",
    "signIn.title": "Connexion",
    "signIn.intro": "Connectez-vous avec votre compte INDS.",
    "signIn.username": "Identifiant",
    "signIn.password": "Mot de passe",
    "signIn.submit": "Se connecter",
    "signIn.busy": "Connexion…",
    "signIn.expired": "Votre session a pris fin : reconnectez-vous.",
    "signIn.signedOut": "Vous êtes déconnecté.",
    "home.title": "Bienvenue",
    "home.nothing": "Votre compte n'a accès à aucune page de cette console.",
    "home.choose": "Choisissez une page dans la navigation.",
    "common.loading": "Chargement…",
    "common.retry": "Réessayer",
    "common.yes": "oui",
    "common.no": "non",
    "common.error": "Erreur : {detail}",
    "common.forbidden": "Votre compte n'a pas accès à cette page.",
    "dup.title": "Revue des doublons",
    "dup.intro.one": "{count} paire ouverte.",
    "dup.intro.other": "{count} paires ouvertes, du score le plus élevé au plus faible.",
    "dup.none": "Aucune paire ouverte : la file est vide.",
    "dup.list": "Paires ouvertes",
    "dup.score": "Score {score}",
    "dup.pick": "Choisissez une paire pour comparer les deux fiches.",
    "dup.pair": "Paire, score {score}",
    "dup.compare": "Les deux fiches côte à côte ; les champs qui diffèrent sont signalés.",
    "dup.field": "Champ",
    "dup.candidate": "Fiche A (enregistrée d'abord)",
    "dup.individual": "Fiche B (enregistrée ensuite)",
    "dup.differs": "diffère",
    "dup.reasons": "Raisons du score",
    "dup.noReasons": "L'API ne donne pas les raisons de ce score.",
    "dup.decide": "Décision",
    "dup.keep": "Fiche conservée en cas de fusion",
    "dup.keepCandidate": "Garder la fiche A",
    "dup.keepIndividual": "Garder la fiche B",
    "dup.note": "Note (facultative)",
    "dup.notDuplicate": "Pas un doublon",
    "dup.merge": "Fusionner",
    "dup.merged": "Paire fusionnée : la fiche {kept} est conservée.",
    "dup.closed": "Paire classée : ce n'est pas un doublon.",
    "dup.resolvedMeanwhile": "Quelqu'un d'autre a déjà traité cette paire entre-temps : {detail}",
    "dup.resolvedBy": "État : {status}, par {who}",
    "field.given_name": "Prénom",
    "field.father_name": "Nom du père",
    "field.grandfather_name": "Nom du grand-père",
    "field.sex": "Sexe",
    "field.birth_date": "Date de naissance",
    "field.status": "Statut de la fiche",
    "field.registry_number": "N° de registre du ménage",
    "reason.given_name": "Prénom semblable",
    "reason.father_name": "Nom du père semblable",
    "reason.grandfather_name": "Nom du grand-père semblable",
    "reason.birth_date": "Date de naissance proche",
    "reason.same_locality": "Même localité",
    "reason.same_region": "Même région",
    "reason.shared_identifiers": "Identifiants partagés",
    "reason.different_name": "Une partie du nom diffère",
    "reason.notCompared": "non comparé",
    "sex.F": "femme",
    "sex.M": "homme",
    "record.active": "active",
    "record.merged": "fusionnée",
    "record.removed": "retirée",
    "pair.open": "ouverte",
    "pair.merged": "fusionnée",
    "pair.not_duplicate": "pas un doublon",
    "pay.title": "Approbation des paiements",
    "pay.intro": "Cycles de paiement dont la liste est prête, en attente d'approbation.",
    "pay.none": "Aucun cycle n'attend d'approbation.",
    "pay.cycle": "Cycle {reference}",
    "pay.programme": "Programme",
    "pay.period": "Période",
    "pay.lines": "Ménages payés",
    "pay.total": "Total",
    "pay.createdBy": "Créé par",
    "pay.status": "État",
    "cycle.draft": "en attente d'approbation",
    "cycle.approved": "approuvé",
    "cycle.cancelled": "annulé",
    "pay.byRegion": "Totaux par région",
    "pay.region": "Région",
    "pay.amount": "Montant",
    "pay.balance": "Solde de la convention",
    "pay.committed": "Engagé",
    "pay.received": "Reçu",
    "pay.reserved": "Réservé",
    "pay.paid": "Payé",
    "pay.available": "Disponible",
    "pay.approve": "Approuver",
    "pay.approved": "Cycle {reference} approuvé.",
    "pay.refused": "Approbation refusée : {detail}",
    "pay.cancelReason": "Motif de l'annulation",
    "pay.cancel": "Annuler le cycle",
    "pay.cancelled": "Cycle {reference} annulé.",
  },
  en: {
    "app.title": "INDS console",
    "app.skip": "Skip to content",
    "nav.label": "Main navigation",
    "nav.duplicates": "Duplicates",
    "nav.approvals": "Payment approval",
    "lang.label": "Language",
    "user.signedInAs": "Signed in: {name}",
    "user.signOut": "Sign out",
    "signIn.title": "Sign in",
    "signIn.intro": "Sign in with your INDS account.",
    "signIn.username": "Username",
    "signIn.password": "Password",
    "signIn.submit": "Sign in",
    "signIn.busy": "Signing in…",
    "signIn.expired": "Your session ended: sign in again.",
    "signIn.signedOut": "You are signed out.",
    "home.title": "Welcome",
    "home.nothing": "Your account has access to no page of this console.",
    "home.choose": "Choose a page in the navigation.",
    "common.loading": "Loading…",
    "common.retry": "Try again",
    "common.yes": "yes",
    "common.no": "no",
    "common.error": "Error: {detail}",
    "common.forbidden": "Your account has no access to this page.",
    "dup.title": "Duplicate review",
    "dup.intro.one": "{count} open pair.",
    "dup.intro.other": "{count} open pairs, highest score first.",
    "dup.none": "No open pair: the queue is empty.",
    "dup.list": "Open pairs",
    "dup.score": "Score {score}",
    "dup.pick": "Choose a pair to compare its two records.",
    "dup.pair": "Pair, score {score}",
    "dup.compare": "The two records side by side; the fields that differ are marked.",
    "dup.field": "Field",
    "dup.candidate": "Record A (registered first)",
    "dup.individual": "Record B (registered later)",
    "dup.differs": "differs",
    "dup.reasons": "Reasons for the score",
    "dup.noReasons": "The API gives no reasons for this score.",
    "dup.decide": "Decision",
    "dup.keep": "Record kept on a merge",
    "dup.keepCandidate": "Keep record A",
    "dup.keepIndividual": "Keep record B",
    "dup.note": "Note (optional)",
    "dup.notDuplicate": "Not a duplicate",
    "dup.merge": "Merge",
    "dup.merged": "Pair merged: record {kept} is kept.",
    "dup.closed": "Pair closed: not a duplicate.",
    "dup.resolvedMeanwhile": "Someone else resolved this pair meanwhile: {detail}",
    "dup.resolvedBy": "Status: {status}, by {who}",
    "field.given_name": "Given name",
    "field.father_name": "Father's name",
    "field.grandfather_name": "Grandfather's name",
    "field.sex": "Sex",
    "field.birth_date": "Birth date",
    "field.status": "Record status",
    "field.registry_number": "Household registry number",
    "reason.given_name": "Given name alike",
    "reason.father_name": "Father's name alike",
    "reason.grandfather_name": "Grandfather's name alike",
    "reason.birth_date": "Birth date close",
    "reason.same_locality": "Same locality",
    "reason.same_region": "Same region",
    "reason.shared_identifiers": "Shared identifiers",
    "reason.different_name": "A part of the name differs",
    "reason.notCompared": "not compared",
    "sex.F": "female",
    "sex.M": "male",
    "record.active": "active",
    "record.merged": "merged",
    "record.removed": "removed",
    "pair.open": "open",
    "pair.merged": "merged",
    "pair.not_duplicate": "not a duplicate",
    "pay.title": "Payment approval",
    "pay.intro": "Payment cycles whose payroll is built, waiting for approval.",
    "pay.none": "No cycle is waiting for approval.",
    "pay.cycle": "Cycle {reference}",
    "pay.programme": "Programme",
    "pay.period": "Period",
    "pay.lines": "Households paid",
    "pay.total": "Total",
    "pay.createdBy": "Created by",
    "pay.status": "Status",
    "cycle.draft": "waiting for approval",
    "cycle.approved": "approved",
    "cycle.cancelled": "cancelled",
    "pay.byRegion": "Totals by region",
    "pay.region": "Region",
    "pay.amount": "Amount",
    "pay.balance": "Agreement balance",
    "pay.committed": "Committed",
    "pay.received": "Received",
    "pay.reserved": "Reserved",
    "pay.paid": "Paid",
    "pay.available": "Available",
    "pay.approve": "Approve",
    "pay.approved": "Cycle {reference} approved.",
    "pay.refused": "Approval refused: {detail}",
    "pay.cancelReason": "Reason for cancelling",
    "pay.cancel": "Cancel the cycle",
    "pay.cancelled": "Cycle {reference} cancelled.",
  },
};

export const LANGUAGES = Object.keys(DICTIONARIES);
const LOCALES = { fr: "fr-DJ", en: "en-GB" };
let language = "fr";
const listeners = new Set();

export function t(key, params = {}) {
  const text = DICTIONARIES[language][key] ?? DICTIONARIES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

// `key.one`, `key.other`...: the form the language uses for `count`.
export function plural(key, count, params = {}) {
  const form = new Intl.PluralRules(locale()).select(count);
  const chosen = has(`${key}.${form}`) ? `${key}.${form}` : `${key}.other`;
  return t(chosen, { count, ...params });
}

export function has(key) {
  return key in DICTIONARIES[language];
}

export function currentLanguage() {
  return language;
}

export function locale() {
  return LOCALES[language];
}

// What the browser prefers, among the console's languages (French when none).
export function preferredLanguage(preferences = navigator.languages) {
  for (const tag of preferences) {
    const code = tag.slice(0, 2).toLowerCase();
    if (code in DICTIONARIES) return code;
  }
  return "fr";
}

export function setLanguage(code) {
  if (!(code in DICTIONARIES)) return;
  language = code;
  document.documentElement.lang = code;
  translate(document);
  for (const listener of listeners) listener(code);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

// The static page's labels: `data-i18n` (text) and `data-i18n-<attribute>` (an attribute).
export function translate(root) {
  for (const element of root.querySelectorAll("*")) {
    for (const [name, key] of Object.entries(element.dataset)) {
      if (name === "i18n") element.textContent = t(key);
      else if (name.startsWith("i18n")) {
        const attribute = name.slice(4).replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
        element.setAttribute(attribute.replace(/^-/, ""), t(key));
      }
    }
  }
}

// Keys one language has and the other lacks (none, or the dictionaries have drifted).
export function missingKeys() {
  const [first, second] = LANGUAGES.map((code) => new Set(Object.keys(DICTIONARIES[code])));
  return [...first].filter((k) => !second.has(k)).concat([...second].filter((k) => !first.has(k)));
}
