import { TaxInputError } from "~/domain/billing/gst";
import { INTERVALS, isInterval, isPlanId, PLAN_IDS } from "~/domain/billing/plans";
import { QuoteError, quoteChange } from "~/domain/billing/quote.server";
import { findWorkspaceBySlug } from "~/domain/workspaces/workspaces.server";
import type { Currency } from "~/db/schema/control";
import { stringOption, UsageError, type Command } from "./command";

/** Which flag each quote or tax field came from, so a refusal names what to change. */
const FLAGS: Record<string, string> = {
  gstin: "--gstin",
  state: "--state",
  supplierState: "--supplier-state",
  plan: "--plan",
  interval: "--interval",
  country: "--workspace",
};

export const billingCommands: Command[] = [
  {
    path: ["billing", "quote"],
    summary:
      "Print what subscribing a workspace to a plan costs now, with GST, in minor units (JSON)",
    options: {
      workspace: { type: "string" },
      plan: { type: "string" },
      interval: { type: "string" },
      gstin: { type: "string" },
      state: { type: "string" },
      "supplier-state": { type: "string" },
    },
    required: ["workspace", "plan"],
    run(args, io) {
      const slug = stringOption(args, "workspace");
      const plan = stringOption(args, "plan");
      if (!isPlanId(plan)) {
        throw new UsageError(`--plan: no plan "${plan}"; choose ${PLAN_IDS.join(", ")}`);
      }
      const interval = (args.values.interval as string | undefined) ?? "month";
      if (!isInterval(interval)) {
        throw new UsageError(`--interval: choose ${INTERVALS.join(" or ")}, not "${interval}"`);
      }
      const workspace = findWorkspaceBySlug(slug);
      if (!workspace || workspace.status === "deleted") {
        throw new UsageError(`--workspace: no workspace has the address "${slug}"`);
      }
      const supplierState = args.values["supplier-state"] as string | undefined;
      if (workspace.country === "IN" && !supplierState) {
        // No supplier GST settings exist yet; the state decides CGST + SGST against IGST.
        throw new UsageError(
          "--supplier-state is required for a customer in India: the GST state code the invoice is issued from",
        );
      }
      try {
        const quote = quoteChange({
          next: { plan, interval },
          currency: workspace.currency as Currency,
          customer: {
            country: workspace.country,
            gstin: args.values.gstin as string | undefined,
            state: args.values.state as string | undefined,
          },
          supplierState: supplierState ?? "",
          at: new Date(),
        });
        io.print({ workspace: workspace.slug, plan, interval, ...quote });
      } catch (error) {
        if (error instanceof TaxInputError || error instanceof QuoteError) {
          throw new UsageError(`${FLAGS[error.field] ?? error.field}: ${error.message}`);
        }
        throw error;
      }
    },
  },
];
