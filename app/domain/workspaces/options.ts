import { getCountries } from "libphonenumber-js";

/**
 * Choices offered at onboarding and in settings. Kept apart from *.server files so forms can
 * render the same lists the server validates against.
 */
export const COUNTRY_CODES: readonly string[] = getCountries();

/** Made once: pages list every country, and each DisplayNames holds ICU memory until collected. */
let regionNames: Intl.DisplayNames | null = null;

export function countryName(code: string): string {
  try {
    regionNames ??= new Intl.DisplayNames(["en"], { type: "region" });
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
}

export function isTimeZone(zone: string): boolean {
  if (!zone || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const RENAMED: Record<string, string> = {
  "Asia/Calcutta": "Asia/Kolkata",
  "Europe/Kiev": "Europe/Kyiv",
};

/** IANA zones, with the current names India and Ukraine use (older ICU data lists old ones). */
export function timeZones(): string[] {
  const zones = new Set(Intl.supportedValuesOf("timeZone").map((z) => RENAMED[z] ?? z));
  zones.add("UTC");
  return [...zones].sort();
}

/**
 * The one spelling a zone is stored in: "asia/kolkata" and "Asia/Calcutta" both become
 * "Asia/Kolkata". Null when it is not a time zone.
 */
export function canonicalTimeZone(zone: string): string | null {
  if (!isTimeZone(zone)) return null;
  const listed = timeZones().find((z) => z.toLowerCase() === zone.toLowerCase());
  if (listed) return listed;
  const resolved = new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;
  return RENAMED[resolved] ?? resolved;
}

/** Lower-case letters, digits and inner hyphens, 3–40 characters. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$/;

/** Slugs that would read as product pages or confuse people. */
export const RESERVED_SLUGS = new Set([
  "admin",
  "api",
  "app",
  "assets",
  "auth",
  "billing",
  "dashboard",
  "dsar",
  "help",
  "login",
  "logout",
  "new",
  "pleisys",
  "privacy",
  "settings",
  "signup",
  "support",
  "webhooks",
  "www",
]);

export function suggestSlug(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
}
