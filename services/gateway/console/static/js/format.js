// Numbers, amounts and dates in the chosen language.
import { locale } from "./i18n.js";

// Money is integer minor units and an ISO 4217 code; the decimals are the currency's.
export function money(amount) {
  if (!amount) return "";
  const { amount_minor: minor, currency } = amount;
  const format = new Intl.NumberFormat(locale(), { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(Number(minor) / 10 ** digits);
}

export function percent(share) {
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(
    share,
  );
}

export function date(iso) {
  if (!iso) return "";
  // A calendar date is shown as written, whatever the browser's time zone.
  const value = iso.length === 10 ? new Date(`${iso}T12:00:00Z`) : new Date(iso);
  const options = iso.length === 10 ? { dateStyle: "medium", timeZone: "UTC" } : { dateStyle: "medium", timeStyle: "short" };
  return new Intl.DateTimeFormat(locale(), options).format(value);
}

export function number(value) {
  return new Intl.NumberFormat(locale()).format(value);
}
