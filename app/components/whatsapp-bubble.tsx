/**
 * A WhatsApp template message as the phone shows it: the media or text header, the body with
 * its variables filled, the grey footer, and the buttons under the bubble. Used while writing a
 * template and on its page. Media is shown as a labelled placeholder of the right kind (the
 * sample file is not fetched into the page).
 */

export interface BubbleButton {
  type: string;
  text: string;
  url?: string;
  phone?: string;
}

export interface BubbleContent {
  /** TEXT, IMAGE, VIDEO or DOCUMENT; absent: no header. */
  headerFormat?: string;
  headerText?: string;
  headerMediaUrl?: string;
  body: string;
  footer?: string;
  buttons: BubbleButton[];
  /** Sample values for {{1}}, {{2}}…; a variable without one shows as written. */
  samples?: string[];
}

const MEDIA_LABEL: Record<string, string> = {
  IMAGE: "Image",
  VIDEO: "Video",
  DOCUMENT: "Document",
};
// Glyphs every system font has (emoji fonts are not everywhere).
const BUTTON_ICON: Record<string, string> = { QUICK_REPLY: "↩", URL: "↗", PHONE_NUMBER: "☎" };

export function fillSamples(body: string, samples: readonly string[] = []): string {
  return body.replace(/\{\{\s*(\d{1,3})\s*\}\}/g, (whole, n: string) => {
    const value = samples[Number(n) - 1]?.trim();
    return value ? value : whole;
  });
}

function fileName(url: string | undefined): string {
  if (!url) return "";
  try {
    return decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "");
  } catch {
    return "";
  }
}

export function WhatsAppBubble({
  content,
  label = "WhatsApp preview",
}: {
  content: BubbleContent;
  label?: string;
}) {
  const format = content.headerFormat?.toUpperCase();
  const media = format && MEDIA_LABEL[format] ? format : null;
  const buttons = content.buttons.filter((b) => b.text.trim() !== "");
  return (
    <figure className="wa-phone" aria-label={label}>
      <div className="wa-bubble">
        {media ? (
          <div
            className={`wa-media wa-media-${media.toLowerCase()}`}
            role="img"
            aria-label={`${MEDIA_LABEL[media]} header${fileName(content.headerMediaUrl) ? `: ${fileName(content.headerMediaUrl)}` : ""}`}
          >
            <span>
              {MEDIA_LABEL[media]}
              {fileName(content.headerMediaUrl) ? ` · ${fileName(content.headerMediaUrl)}` : ""}
            </span>
          </div>
        ) : null}
        {format === "TEXT" && content.headerText ? (
          <p className="wa-header">{content.headerText}</p>
        ) : null}
        <p className="wa-body">
          {content.body.trim() === "" ? (
            <span className="muted">The body appears here.</span>
          ) : (
            fillSamples(content.body, content.samples)
          )}
        </p>
        {content.footer ? <p className="wa-footer">{content.footer}</p> : null}
      </div>
      {buttons.length ? (
        <ul className="wa-buttons" aria-label="Buttons">
          {buttons.map((b, i) => (
            <li key={i}>
              <span aria-hidden="true">{BUTTON_ICON[b.type] ?? ""}</span> {b.text}
            </li>
          ))}
        </ul>
      ) : null}
    </figure>
  );
}
