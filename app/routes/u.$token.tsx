import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  describePreferences,
  setPreferences,
  unsubscribeOneClick,
} from "~/domain/delivery/recipient-links.server";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { readIntent } from "~/lib/form.server";

/**
 * The page behind the unsubscribe link of a marketing email (/u/<signed token>), for the person
 * who got it: no sign-in. Mail clients POST `List-Unsubscribe=One-Click` here (RFC 8058) and
 * must get a plain 200; people choose channels, leave everything, or come back.
 */

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: data
      ? `${data.workspaceName} — manage your messages`
      : "Manage your messages — Pleisys Engage",
  },
  { name: "robots", content: "noindex, nofollow" },
];

// The token acts for one person: keep it out of caches, indexes and Referer headers.
export const headers = () => ({
  "Cache-Control": "no-store",
  "X-Robots-Tag": "noindex, nofollow",
  "Referrer-Policy": "no-referrer",
});

/** Shows the choices. A GET changes nothing: link scanners and previews follow GETs. */
export async function loader({ params }: LoaderFunctionArgs) {
  return describePreferences(params.token ?? "");
}

type Done = {
  done: "unsubscribed" | "saved" | "resubscribed";
  unsubscribed: Channel[];
  resubscribed: Channel[];
};

/** What the page's own forms ask for; a POST without an intent is a mail client's one-click. */
const INTENTS = { save: true, "unsubscribe-all": true, resubscribe: true } as const;

function channelsIn(values: FormDataEntryValue[]): Channel[] {
  return CHANNELS.filter((c) => values.includes(c));
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const token = params.token ?? "";
  let form: FormData | null;
  try {
    form = await request.formData();
  } catch {
    form = null; // An empty or unreadable body: the signed token in the URL is enough.
  }
  const who = {
    ip: context.clientIp || undefined,
    userAgent: request.headers.get("user-agent") ?? undefined,
  };

  // RFC 8058: `List-Unsubscribe=One-Click`, from a mail client, no cookie, no confirmation.
  if (!form?.has("intent")) {
    await unsubscribeOneClick(token, who);
    const view = await describePreferences(token);
    return data<Done>(
      { done: "unsubscribed", unsubscribed: [view.channel], resubscribed: [] },
      { headers: { "Cache-Control": "no-store" } },
    );
  }

  const view = await describePreferences(token);
  const intent = readIntent(form, INTENTS);
  const offered = view.channels.map((c) => c.channel);
  let wanted: Partial<Record<Channel, boolean>>;
  switch (intent) {
    case "save": {
      const checked = channelsIn(form.getAll("subscribed"));
      wanted = Object.fromEntries(offered.map((c) => [c, checked.includes(c)]));
      break;
    }
    case "unsubscribe-all":
      wanted = Object.fromEntries([...new Set([...offered, view.channel])].map((c) => [c, false]));
      break;
    case "resubscribe":
      wanted = Object.fromEntries(
        channelsIn(form.getAll("channel"))
          .filter((c) => offered.includes(c))
          .map((c) => [c, true]),
      );
      break;
  }
  const changed = await setPreferences(token, wanted, who);
  const done: Done["done"] =
    intent === "resubscribe" ? "resubscribed" : intent === "save" ? "saved" : "unsubscribed";
  return data<Done>({ done, ...changed }, { headers: { "Cache-Control": "no-store" } });
}

function list(channels: Channel[]): string {
  const labels = channels.map((c) => CHANNEL_LABELS[c]);
  if (labels.length <= 1) return labels.join("");
  return `${labels.slice(0, -1).join(", ")} and ${labels.at(-1)}`;
}

export default function ManageMessages() {
  const view = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";

  return (
    <div className="prose">
      <PageHeader
        title={`${view.workspaceName} — manage your messages`}
        description={`For ${view.maskedAddress}`}
      />

      {result ? (
        <Alert
          tone="success"
          title={
            result.done === "resubscribed"
              ? "Welcome back"
              : result.done === "saved"
                ? "Your choices are saved"
                : "You are unsubscribed"
          }
        >
          <p>
            {result.unsubscribed.length
              ? `${view.workspaceName} will no longer send you marketing messages by ${list(result.unsubscribed)}. `
              : null}
            {result.resubscribed.length
              ? `You will get ${view.workspaceName}'s messages by ${list(result.resubscribed)} again. `
              : null}
            {!result.unsubscribed.length && !result.resubscribed.length
              ? "Nothing needed to change."
              : null}
          </p>
        </Alert>
      ) : null}

      {result && result.unsubscribed.length ? (
        <Form method="post" replace>
          <input type="hidden" name="intent" value="resubscribe" />
          {result.unsubscribed.map((c) => (
            <input key={c} type="hidden" name="channel" value={c} />
          ))}
          <p>Changed your mind?</p>
          <Button type="submit" variant="secondary" disabled={busy}>
            Resubscribe to {list(result.unsubscribed)}
          </Button>
        </Form>
      ) : null}

      <Card title="What you get from us">
        {view.channels.length === 0 ? (
          <p>We have no subscriptions on record for you.</p>
        ) : (
          <Form method="post" replace>
            <input type="hidden" name="intent" value="save" />
            <fieldset className="field">
              <legend>Send me marketing messages by</legend>
              {view.channels.map((c) => (
                <div className="field field-checkbox" key={c.channel}>
                  <input
                    // A new input when the saved state changes, so the box shows it.
                    key={`${c.channel}:${c.subscribed}`}
                    id={`subscribed-${c.channel}`}
                    type="checkbox"
                    name="subscribed"
                    value={c.channel}
                    defaultChecked={c.subscribed}
                  />
                  <label htmlFor={`subscribed-${c.channel}`}>{c.label}</label>
                </div>
              ))}
            </fieldset>
            <Button type="submit" disabled={busy}>
              Save my choices
            </Button>
          </Form>
        )}
        <Form method="post" replace>
          <input type="hidden" name="intent" value="unsubscribe-all" />
          <p>Or stop everything at once:</p>
          <Button type="submit" variant="danger" disabled={busy}>
            Unsubscribe from all
          </Button>
        </Form>
      </Card>
      <p className="muted">
        Messages you asked for, such as order updates or answers to your questions, may still
        arrive.
      </p>
    </div>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
