const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML element content and quoted attribute values: the one escape for
 * everything we write into HTML ourselves (mail bodies, personalised values, tracked links).
 * `quotes: false` leaves quotes as typed, for text a person goes on editing as element content
 * (a Telegram message), where only & < > matter.
 */
export function escapeHtml(value: string, { quotes = true }: { quotes?: boolean } = {}): string {
  return value.replace(quotes ? /[&<>"']/g : /[&<>]/g, (c) => HTML_ESCAPES[c]!);
}
