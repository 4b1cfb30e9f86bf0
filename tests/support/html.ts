/**
 * Server-rendered pages as tests read them.
 *
 * React writes `<!-- -->` between adjacent text parts and escapes ' " < > & as entities; both
 * are undone so a test can match a sentence as a reader sees it. Tags, scripts and the
 * hydration data stay: a `not.toContain(secret)` must also see what reaches the browser
 * without being shown. Pages that must prove escaping (user text shown as `&lt;script&gt;`)
 * are read raw with `res.text()`.
 */
export function decodeHtml(html: string): string {
  return html
    .replace(/<!-- -->/g, "")
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The response's body, decoded as {@link decodeHtml} describes. */
export async function textOf(res: Response): Promise<string> {
  return decodeHtml(await res.text());
}
