/** How many contacts, in words. */
export const plural = (n: number) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? "contact" : "contacts"}`;

/** The page's address with its search kept (and any `extra` parameters set). */
export function href(base: string, keep: [string, string][], extra: Record<string, string> = {}) {
  const params = new URLSearchParams(keep);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}
