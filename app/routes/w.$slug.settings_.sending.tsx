import type { SubmissionResult } from "@conform-to/react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { LineChart } from "~/components/charts";
import { aiUsageSummary, AI_OUTCOMES, type AiOutcome } from "~/domain/ai/usage.server";
import {
  ANY_COUNTRY,
  PRICE_KINDS,
  priceKey,
  priceLabel,
  UNIT_LABELS,
} from "~/domain/campaigns/price-units";
import {
  addPrice,
  resetAllPrices,
  resetPrice,
  savePrices,
  workspacePrices,
} from "~/domain/campaigns/prices.server";
import { messageUsage, usageMonthStart } from "~/domain/delivery/message-usage.server";
import { COUNTRY_CODES, countryName } from "~/domain/workspaces/options";
import { setApprovalThreshold } from "~/domain/workspaces/workspaces.server";
import { CHANNEL_LABELS, CHANNELS } from "~/lib/channels";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatMoney, minorToDecimal } from "~/lib/money";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Sending & usage — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const AI_OUTCOME_LABELS: Record<AiOutcome, string> = {
  ok: "Answered",
  error: "Failed",
  rate_limited: "Refused: over the hourly limit",
  not_configured: "Refused: AI not configured",
};

/** More rows than any price table has: a form with more fields is not ours. */
const MAX_PRICE_FIELDS = 500;
const PRICE_FIELD = /^[a-z]+:[A-Za-z]+:[A-Z*]{1,2}$/;

const Threshold = z.object({
  approvalThreshold: z
    .string()
    .max(20, "Enter a whole number of recipients, or leave it blank.")
    .optional()
    .default(""),
});
const Prices = z.looseObject({});
const NewPrice = z.object({
  kind: z.string({ error: "Choose what the price is for." }).max(40),
  country: z.string({ error: "Choose a country." }).max(8),
  price: z.string({ error: "Enter an amount, for example 0.88." }).max(32),
});
const ByKey = z.object({ key: z.string({ error: "Choose a price." }).max(40) });
const Nothing = z.object({});

/** "3 May" from "2030-05-03" (a UTC day). */
function shortDay(day: string): string {
  const [, month, date] = day.split("-").map(Number);
  const name = new Date(Date.UTC(2000, month! - 1, 1)).toLocaleString("en-GB", {
    month: "short",
    timeZone: "UTC",
  });
  return `${date} ${name}`;
}

export async function loader(args: LoaderFunctionArgs) {
  // Usage is a report: everyone who reads reports sees it; only managers change settings.
  const { workspace, role, wctx } = await requireWorkspace(args, "analytics:read");
  const url = new URL(args.request.url);
  const now = wctx.now();
  const currency = workspace.currency;
  const table = workspacePrices(wctx, currency);
  const usage = messageUsage(workspace.id, now);
  const ai = aiUsageSummary(workspace.id, usageMonthStart(now));
  const canEdit = can(role, "workspace:settings");
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canEdit,
    confirmReset: canEdit && url.searchParams.get("reset") === "prices" && table.custom,
    currency,
    approvalThreshold: workspace.approvalThreshold,
    prices: {
      custom: table.custom,
      rows: table.rows.map((row) => ({
        key: priceKey(row),
        label: priceLabel(row),
        channel: CHANNEL_LABELS[row.channel],
        unit: UNIT_LABELS[row.unit] ?? row.unit,
        country:
          row.country === ANY_COUNTRY
            ? "Other countries"
            : `${countryName(row.country)} (${row.country})`,
        value: minorToDecimal(row.priceMinor),
        shown: formatMoney(row.priceMinor, currency),
        priceMinor: row.priceMinor,
        defaultShown: row.defaultMinor === null ? null : formatMoney(row.defaultMinor, currency),
        changed: row.defaultMinor !== row.priceMinor,
      })),
    },
    kinds: PRICE_KINDS.map((k) => ({
      value: `${k.channel}:${k.unit}`,
      label: `${CHANNEL_LABELS[k.channel]}, ${UNIT_LABELS[k.unit]}`,
    })),
    countries: COUNTRY_CODES.map((code) => ({
      value: code,
      label: `${countryName(code)} (${code})`,
    })).sort((a, b) => a.label.localeCompare(b.label, "en")),
    usage: {
      from: usage.from,
      to: usage.to,
      monthStart: usage.monthStart,
      monthTotals: usage.monthTotals,
      windowTotals: usage.windowTotals,
      days: usage.days.map((d) => ({ ...d, label: shortDay(d.day) })),
    },
    ai: {
      requests: ai.requests,
      inputTokens: ai.inputTokens,
      outputTokens: ai.outputTokens,
      byOutcome: AI_OUTCOMES.map((outcome) => ({
        outcome,
        label: AI_OUTCOME_LABELS[outcome],
        requests: ai.byOutcome[outcome],
      })),
    },
  };
}

const NEEDS = {
  threshold: "workspace:settings",
  prices: "workspace:settings",
  "add-price": "workspace:settings",
  "reset-price": "workspace:settings",
  "reset-all": "workspace:settings",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/settings/sending`;
  const currency = workspace.currency;
  switch (intent) {
    case "threshold":
      return submitForm(formData, Threshold, (value) => {
        const saved = setApprovalThreshold(wctx, workspace.id, value.approvalThreshold);
        return redirectWithFlash(
          page,
          saved === null
            ? "Saved: campaigns are sent without a second approval."
            : `Saved: campaigns to more than ${saved.toLocaleString("en-IN")} recipients need another admin's approval.`,
        );
      });
    case "prices":
      return submitForm(formData, Prices, () => {
        // Every price input is named after its row ("sms:segment:IN"); read them as typed
        // (a cleared input must come back as an error, not be dropped).
        const edits = [...formData.entries()]
          .filter(([name]) => PRICE_FIELD.test(name))
          .slice(0, MAX_PRICE_FIELDS)
          .map(([key, price]) => ({ key, price: typeof price === "string" ? price : "" }));
        const { changed } = savePrices(wctx, currency, edits);
        return redirectWithFlash(
          page,
          changed === 0
            ? "No price changed."
            : `Saved ${changed} ${changed === 1 ? "price" : "prices"}. Campaign reviews use the new prices from now on.`,
        );
      });
    case "add-price":
      return submitForm(formData, NewPrice, (value) => {
        const [channel = "", unit = ""] = value.kind.split(":");
        const row = addPrice(wctx, currency, {
          channel,
          unit,
          country: value.country,
          price: value.price,
        });
        return redirectWithFlash(
          page,
          `Added ${priceLabel(row).replace(" price for ", " to ")}: ${formatMoney(row.priceMinor, currency)}.`,
        );
      });
    case "reset-price":
      return submitForm(formData, ByKey, (value) => {
        const { removed, description } = resetPrice(wctx, currency, value.key);
        return redirectWithFlash(
          page,
          removed
            ? `Removed the price for ${description}; the “other countries” price applies.`
            : `The price for ${description} is back to its default.`,
        );
      });
    case "reset-all":
      return submitForm(formData, Nothing, () => {
        resetAllPrices(wctx, currency);
        return redirectWithFlash(page, `All prices are back to the ${currency} defaults.`);
      });
  }
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>;
type Result = SubmissionResult<string[]> | undefined;

function resultFor(result: Result, intent: string): Result {
  return result?.initialValue?.intent === intent ? result : undefined;
}

function ThresholdCard({
  view,
  result,
  busy,
}: {
  view: LoaderData;
  result: Result;
  busy: boolean;
}) {
  const ours = resultFor(result, "threshold");
  const typed = ours?.initialValue?.approvalThreshold;
  const current = view.approvalThreshold;
  return (
    <Card title="Approval">
      <p>
        {current === null
          ? "No campaign needs a second approval."
          : `Campaigns to more than ${current.toLocaleString("en-IN")} recipients wait until another admin approves them (four eyes).`}
      </p>
      {view.canEdit ? (
        <Form method="post" aria-label="Approval threshold">
          <input type="hidden" name="intent" value="threshold" />
          <FormErrors errors={ours?.error?.[""] ?? undefined} />
          <Field
            key={String(current)}
            name="approvalThreshold"
            label="Approval needed above (recipients)"
            hint="Counted after skips (consent, suppression). Leave blank so no campaign needs approval."
            inputMode="numeric"
            autoComplete="off"
            defaultValue={
              typeof typed === "string" ? typed : current === null ? "" : String(current)
            }
            errors={ours?.error?.approvalThreshold ?? undefined}
          />
          <Button type="submit" disabled={busy}>
            Save approval threshold
          </Button>
        </Form>
      ) : null}
    </Card>
  );
}

function PriceTable({ view, result, busy }: { view: LoaderData; result: Result; busy: boolean }) {
  const ours = resultFor(result, "prices");
  const errors = ours?.error ?? {};
  const typed = (ours?.initialValue ?? {}) as Record<string, unknown>;
  const badRows = Object.entries(errors).filter(([name, m]) => name !== "" && m?.length).length;
  const page = `/w/${view.workspace.slug}/settings/sending`;
  return (
    <>
      {badRows > 0 ? (
        <Alert tone="error">
          {badRows === 1 ? "One price needs" : `${badRows} prices need`} correcting; nothing was
          saved.
        </Alert>
      ) : null}
      <FormErrors errors={errors[""] ?? undefined} />
      <Form method="post" id="price-table" aria-label="Price table">
        <input type="hidden" name="intent" value="prices" />
      </Form>
      <div className="table-scroll">
        <table className="table price-table">
          <caption className="visually-hidden">Prices in {view.currency}</caption>
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col">Charged</th>
              <th scope="col">Country</th>
              <th scope="col">Price ({view.currency})</th>
              <th scope="col">Default</th>
              {view.canEdit ? (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {view.prices.rows.map((row) => {
              const rowErrors = errors[row.key] ?? undefined;
              const errorId = `price-${row.key}-error`;
              const typedValue = typed[row.key];
              return (
                <tr key={row.key}>
                  <td>{row.channel}</td>
                  <td>{row.unit}</td>
                  <td>{row.country}</td>
                  <td>
                    {view.canEdit ? (
                      <div className="field">
                        <input
                          key={`${row.key}-${row.priceMinor}`}
                          form="price-table"
                          name={row.key}
                          aria-label={row.label}
                          inputMode="decimal"
                          autoComplete="off"
                          defaultValue={typeof typedValue === "string" ? typedValue : row.value}
                          aria-invalid={rowErrors ? true : undefined}
                          aria-describedby={rowErrors ? errorId : undefined}
                        />
                        {rowErrors ? (
                          <p id={errorId} className="field-error">
                            {rowErrors.join(" ")}
                          </p>
                        ) : null}
                      </div>
                    ) : (
                      row.shown
                    )}
                  </td>
                  <td>
                    {row.defaultShown ?? <span className="muted">None (added)</span>}
                    {row.changed && row.defaultShown ? (
                      <span className="badge badge-warning">Changed</span>
                    ) : null}
                  </td>
                  {view.canEdit ? (
                    <td>
                      {row.changed ? (
                        <Form method="post" action={page} className="inline-form">
                          <input type="hidden" name="intent" value="reset-price" />
                          <input type="hidden" name="key" value={row.key} />
                          <Button type="submit" variant="ghost" disabled={busy}>
                            {row.defaultShown ? "Reset" : "Remove"}
                            <span className="visually-hidden"> {row.label}</span>
                          </Button>
                        </Form>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {view.canEdit ? (
        <div className="filters-actions">
          <Button type="submit" form="price-table" disabled={busy}>
            Save prices
          </Button>
          {view.prices.custom ? (
            <ButtonLink to={`${page}?reset=prices`} variant="danger" preventScrollReset>
              Reset all prices to defaults…
            </ButtonLink>
          ) : null}
        </div>
      ) : null}
    </>
  );
}

function AddPriceForm({ view, result, busy }: { view: LoaderData; result: Result; busy: boolean }) {
  const ours = resultFor(result, "add-price");
  const errors = ours?.error ?? {};
  const typed = (ours?.initialValue ?? {}) as Record<string, string | undefined>;
  return (
    <Form method="post" aria-labelledby="add-price-heading">
      <h3 id="add-price-heading">Add a country</h3>
      <p className="field-hint">
        Recipients in a country without its own row are charged the “other countries” price.
      </p>
      <input type="hidden" name="intent" value="add-price" />
      <FormErrors errors={errors[""] ?? undefined} />
      <div className="filters">
        <Select
          name="kind"
          label="Price for"
          options={view.kinds}
          defaultValue={typed.kind ?? "sms:segment"}
          errors={errors.kind ?? errors.channel ?? errors.unit ?? undefined}
        />
        <Select
          name="country"
          label="Country"
          options={view.countries}
          defaultValue={typed.country ?? "AE"}
          errors={errors.country ?? undefined}
        />
        <Field
          name="price"
          label={`Price (${view.currency})`}
          inputMode="decimal"
          autoComplete="off"
          placeholder="0.00"
          defaultValue={typed.price ?? ""}
          errors={errors.price ?? undefined}
        />
        <Button type="submit" variant="secondary" disabled={busy}>
          Add price
        </Button>
      </div>
    </Form>
  );
}

function UsageSection({ view }: { view: LoaderData }) {
  const { usage, ai } = view;
  const csv = `/w/${view.workspace.slug}/settings/sending.csv`;
  const newestFirst = [...usage.days].reverse();
  return (
    <>
      <Card title="Messages sent">
        <p className="field-hint">
          Messages handed to your providers; sandbox messages are not counted. Days and months are
          UTC days and months.
        </p>
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Messages per channel</caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">This month (from {usage.monthStart})</th>
                <th scope="col">Last 30 days</th>
              </tr>
            </thead>
            <tbody>
              {CHANNELS.map((channel) => (
                <tr key={channel}>
                  <th scope="row">{CHANNEL_LABELS[channel]}</th>
                  <td>{usage.monthTotals[channel].toLocaleString("en-IN")}</td>
                  <td>{usage.windowTotals[channel].toLocaleString("en-IN")}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">Total</th>
                <td>{usage.monthTotals.total.toLocaleString("en-IN")}</td>
                <td>{usage.windowTotals.total.toLocaleString("en-IN")}</td>
              </tr>
            </tbody>
          </table>
        </div>
        <h3>
          Per day, {usage.from} to {usage.to}
        </h3>
        {usage.windowTotals.total === 0 ? (
          <EmptyState title="Nothing sent in the last 30 days">
            Messages sent through a connected channel are counted here.
          </EmptyState>
        ) : (
          <LineChart
            title="Messages per day by channel"
            description={`Messages sent through connected channels on each of the last ${usage.days.length} days (UTC), by channel.`}
            labels={usage.days.map((d) => d.label)}
            series={CHANNELS.map((channel) => ({
              label: CHANNEL_LABELS[channel],
              values: usage.days.map((d) => d.counts[channel]),
            }))}
          />
        )}
        <details>
          <summary>Daily numbers</summary>
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Messages per day and channel</caption>
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  {CHANNELS.map((channel) => (
                    <th key={channel} scope="col">
                      {CHANNEL_LABELS[channel]}
                    </th>
                  ))}
                  <th scope="col">Total</th>
                </tr>
              </thead>
              <tbody>
                {newestFirst.map((d) => (
                  <tr key={d.day}>
                    <th scope="row">
                      <time dateTime={d.day}>{d.day}</time>
                    </th>
                    {CHANNELS.map((channel) => (
                      <td key={channel}>{d.counts[channel]}</td>
                    ))}
                    <td>{d.total}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
        <p>
          <a href={csv} download>
            Download daily usage (CSV)
          </a>
        </p>
      </Card>
      <Card title="AI writing this month">
        <p className="field-hint">
          Requests to write copy with AI since {usage.monthStart} (UTC), and the tokens the AI
          provider counted. Prompts are never stored.
        </p>
        <dl className="role-list">
          <div>
            <dt>Requests</dt>
            <dd>{ai.requests.toLocaleString("en-IN")}</dd>
          </div>
          <div>
            <dt>Input tokens</dt>
            <dd>{ai.inputTokens.toLocaleString("en-IN")}</dd>
          </div>
          <div>
            <dt>Output tokens</dt>
            <dd>{ai.outputTokens.toLocaleString("en-IN")}</dd>
          </div>
        </dl>
        {ai.requests > 0 ? (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">AI requests by outcome</caption>
              <thead>
                <tr>
                  <th scope="col">Outcome</th>
                  <th scope="col">Requests</th>
                </tr>
              </thead>
              <tbody>
                {ai.byOutcome.map((o) => (
                  <tr key={o.outcome}>
                    <th scope="row">{o.label}</th>
                    <td>{o.requests.toLocaleString("en-IN")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Card>
    </>
  );
}

export default function SendingSettingsPage() {
  const view = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as Result;
  const busy = useNavigation().state === "submitting";
  const page = `/w/${view.workspace.slug}/settings/sending`;
  const otherErrors = resultFor(result, "reset-price") ?? resultFor(result, "reset-all");
  return (
    <>
      <PageHeader
        title="Sending & usage"
        description={
          <>
            {view.canEdit ? (
              <>
                <Link to={`/w/${view.workspace.slug}/settings`}>Settings</Link> ·{" "}
              </>
            ) : null}
            What campaigns cost and who must approve them, and how much this workspace has sent.
          </>
        }
      />
      <FormErrors
        errors={otherErrors ? Object.values(otherErrors.error ?? {}).flatMap((m) => m ?? []) : []}
      />

      {view.confirmReset ? (
        <section className="card danger-zone" aria-labelledby="reset-heading">
          <h2 id="reset-heading" className="card-title">
            Reset all prices to the defaults?
          </h2>
          <p>
            Every price goes back to the {view.currency} default and the countries you added are
            removed. Campaign reviews use the defaults from then on.
          </p>
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="reset-all" />
            <Button variant="danger" type="submit" disabled={busy}>
              Reset all prices
            </Button>
            <ButtonLink to={page}>Cancel</ButtonLink>
          </Form>
        </section>
      ) : null}

      <ThresholdCard view={view} result={result} busy={busy} />

      <Card title="Prices">
        <p>
          The campaign review estimates the cost of a send with these prices, in {view.currency}
          {view.prices.custom ? "" : " (the defaults: change any price to use your own)"}. WhatsApp
          is charged per message by template category, SMS per segment.
        </p>
        <PriceTable view={view} result={result} busy={busy} />
        {view.canEdit ? <AddPriceForm view={view} result={result} busy={busy} /> : null}
      </Card>

      <UsageSection view={view} />
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
