import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { Card, PageHeader } from "~/components/ui/layout";
import { emailHtmlForDisplay } from "~/domain/delivery/email-compose.server";
import { mailboxRequestFrom, readDevMailboxMessage } from "~/domain/mail/mailbox.server";

export const meta: MetaFunction = () => [
  { title: "Dev mailbox message — Pleisys Engage" },
  { name: "robots", content: "noindex" },
];

export const headers = () => ({ "Cache-Control": "no-store" });

/** Loaders run in parallel: this one guards on its own rather than trusting its parent's. */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const guard = mailboxRequestFrom(request.headers, context.clientIp);
  const message = await readDevMailboxMessage(guard, params.id ?? "");
  // A developer reading the mail is not its recipient opening it: no pixel, no tracked links.
  return {
    message: { ...message, html: message.html === null ? null : emailHtmlForDisplay(message.html) },
  };
}

const SHOWN_HEADERS = [
  "From",
  "To",
  "Subject",
  "Date",
  "List-Unsubscribe",
  "List-Unsubscribe-Post",
  "Message-ID",
];

/** http(s) links, without trailing punctuation that ends a sentence. */
const LINK = /(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'])/g;

function Linkified({ text }: { text: string }) {
  return (
    <>
      {text.split(LINK).map((part, i) =>
        i % 2 === 1 ? (
          <a key={i} href={part} rel="noreferrer">
            {part}
          </a>
        ) : (
          part
        ),
      )}
    </>
  );
}

export default function DevMailboxMessage() {
  const { message } = useLoaderData<typeof loader>();
  const shown = SHOWN_HEADERS.flatMap((name) =>
    message.headers
      .filter((h) => h.name.toLowerCase() === name.toLowerCase())
      .map((h) => [name, h.value] as const),
  );
  return (
    <>
      <p>
        <Link to="/dev/mailbox">← All mail</Link>
      </p>
      <PageHeader title={message.subject || "(no subject)"} description={`To ${message.to}`} />
      <Card title="Headers">
        <table className="table">
          <tbody>
            {shown.map(([name, value], i) => (
              <tr key={`${name}-${i}`}>
                <th scope="row">{name}</th>
                <td style={{ wordBreak: "break-all" }}>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Text">
        {message.text === null ? (
          <p>This message has no text part.</p>
        ) : (
          <pre className="mail-text" style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
            <Linkified text={message.text} />
          </pre>
        )}
      </Card>
      <Card title="HTML">
        {message.html === null ? (
          <p>This message has no HTML part.</p>
        ) : (
          // sandbox="" : no scripts, no forms, no navigation, an opaque origin.
          <iframe
            title="HTML body of the message"
            sandbox=""
            srcDoc={message.html}
            style={{
              width: "100%",
              height: "760px",
              border: "1px solid #d9e2ec",
              background: "#fff",
            }}
          />
        )}
      </Card>
    </>
  );
}
