/**
 * Addresses and keys made from the names people type: "Chai & Co. Café" → "chai-co-cafe" for a
 * workspace address, "Favourite drink" → "favourite_drink" for an attribute key. Used by the
 * forms (filled in as the name is typed) and by the server when the field comes back empty, so
 * both agree.
 */

/** Latin letters with their accents removed, lower case, everything else as separators. */
function words(text: string): string[] {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Joins words up to `max` characters without cutting the last one in half where possible. */
function joinUpTo(parts: string[], separator: string, max: number): string {
  let out = "";
  for (const part of parts) {
    const next = out ? `${out}${separator}${part}` : part;
    if (next.length > max) {
      if (!out) out = part.slice(0, max);
      break;
    }
    out = next;
  }
  return out;
}

export const SLUG_MAX = 40;

/**
 * A workspace address from its name: lower-case letters, digits and hyphens, at most 40
 * characters. Empty when the name has no Latin letters or digits (the person then chooses one).
 */
export function slugFromName(name: string): string {
  return joinUpTo(words(name), "-", SLUG_MAX);
}

export const ATTRIBUTE_KEY_MAX = 40;

/**
 * An attribute key from its label: lower-case letters, digits and underscores, starting with a
 * letter, so a label that starts with a digit gets "n_" in front ("2nd visit" → "n_2nd_visit").
 */
export function attributeKeyFromLabel(label: string): string {
  const parts = words(label);
  if (parts.length && /^[0-9]/.test(parts[0]!)) parts.unshift("n");
  return joinUpTo(parts, "_", ATTRIBUTE_KEY_MAX);
}
