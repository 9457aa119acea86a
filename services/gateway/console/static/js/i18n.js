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
    "field.given_name": "Prénom",
    "field.father_name": "Nom du père",
    "field.grandfather_name": "Nom du grand-père",
    "field.birth_date": "Date de naissance",
    "field.locality": "Lieu",
    "field.identifiers": "Identifiants",
    "field.household": "Ménage",
    "finding.same": "même orthographe",
    "finding.close": "variante d'orthographe ou de frappe",
    "finding.similar": "semblable",
    "finding.different": "différent",
    "finding.left_out": "absent d'un côté",
    "finding.same_date": "même date",
    "finding.days_apart": "à quelques jours",
    "finding.weeks_apart": "à quelques semaines",
    "finding.same_year_estimated": "même année (date estimée)",
    "finding.same_year_1_january": "même année (1er janvier : année seule)",
    "finding.year_off": "un an d'écart",
    "finding.year_off_estimated": "un an d'écart (date estimée)",
    "finding.day_month_swapped": "jour et mois inversés",
    "finding.same_year_other_day": "même année, autre jour",
    "finding.year_apart": "un an d'écart ou plus",
    "finding.years_off_estimated": "années d'écart (date estimée)",
    "finding.years_apart": "années d'écart",
    "finding.same_locality": "même localité",
    "finding.same_commune": "même commune",
    "finding.same_region": "même région",
    "finding.shared": "partagés",
    "finding.spouse_matches": "le conjoint correspond",
    "finding.spouse_differs": "le conjoint diffère",
    "finding.children_match": "les enfants correspondent",
    "finding.children_differ": "les enfants diffèrent",
    "finding.mother_matches": "la mère correspond",
    "finding.mother_differs": "la mère diffère",
    "finding.members_match": "les membres correspondent",
    "reason.for": "pour",
    "reason.against": "contre",
    "dup.ruledOut": "Écartée : deux prénoms différents ou des dates trop éloignées sont deux personnes.",
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
    "pay.refuseReason": "Motif du refus",
    "pay.refuse": "Refuser le cycle",
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
    "field.given_name": "Given name",
    "field.father_name": "Father's name",
    "field.grandfather_name": "Grandfather's name",
    "field.birth_date": "Birth date",
    "field.locality": "Place",
    "field.identifiers": "Identifiers",
    "field.household": "Household",
    "finding.same": "same spelling",
    "finding.close": "a spelling or typing variant",
    "finding.similar": "similar",
    "finding.different": "different",
    "finding.left_out": "on one side only",
    "finding.same_date": "same date",
    "finding.days_apart": "days apart",
    "finding.weeks_apart": "weeks apart",
    "finding.same_year_estimated": "same year (estimated date)",
    "finding.same_year_1_january": "same year (1 January: year only)",
    "finding.year_off": "a year off",
    "finding.year_off_estimated": "a year off (estimated date)",
    "finding.day_month_swapped": "day and month swapped",
    "finding.same_year_other_day": "same year, another day",
    "finding.year_apart": "a year or more apart",
    "finding.years_off_estimated": "years off (estimated date)",
    "finding.years_apart": "years apart",
    "finding.same_locality": "same locality",
    "finding.same_commune": "same commune",
    "finding.same_region": "same region",
    "finding.shared": "shared",
    "finding.spouse_matches": "the spouse matches",
    "finding.spouse_differs": "the spouse differs",
    "finding.children_match": "the children match",
    "finding.children_differ": "the children differ",
    "finding.mother_matches": "the mother matches",
    "finding.mother_differs": "the mother differs",
    "finding.members_match": "the members match",
    "reason.for": "for",
    "reason.against": "against",
    "dup.ruledOut": "Ruled out: two different given names, or dates too far apart, are two people.",
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
    "pay.refuseReason": "Reason for refusing",
    "pay.refuse": "Refuse the cycle",
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
