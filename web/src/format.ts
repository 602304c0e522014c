// Display formats: money, times, durations, in the current language.
import type { Money } from "./api";
import { lang } from "./i18n";

function locale(): string {
  return lang() === "fr" ? "fr-FR" : "en-GB";
}

// Micro-euros as a currency string (cents, or more digits for tiny amounts).
export function microsText(micros: number, currency = "EUR"): string {
  const value = micros / 1e6;
  const digits = value !== 0 && Math.abs(value) < 0.01 ? 4 : 2;
  return new Intl.NumberFormat(locale(), {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

export function money(m: Money | undefined | null): string {
  if (!m) return "—";
  return microsText(m.micros ?? Math.round(Number(m.amount) * 1e6), m.currency || "EUR");
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "medium" }).format(d);
}

// A day, without the time ("12 Mar 2027").
export function day(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

export function clock(d: Date): string {
  return new Intl.DateTimeFormat(locale(), { timeStyle: "medium" }).format(d);
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) {
    const hours = s / 3600;
    return `${Number.isInteger(hours) ? hours : hours.toFixed(1)} h`;
  }
  const days = s / 86400;
  return `${Number.isInteger(days) ? days : days.toFixed(1)} d`;
}

export function number(n: number, digits = 2): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

// Bytes in decimal units (kB = 1000 B), as network figures are: "6.7 MB" ("6,7 Mo" in French).
export function bytes(n: number): string {
  const units = lang() === "fr" ? ["o", "ko", "Mo", "Go", "To", "Po"] : ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${number(v, u === 0 ? 0 : 1)} ${units[u]}`;
}
