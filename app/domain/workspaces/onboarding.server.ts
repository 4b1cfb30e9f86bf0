import { eq } from "drizzle-orm";
import { tenantMeta } from "~/db/schema/tenant";
import { recordAudit } from "../audit/audit.server";
import { hasStartedCampaign } from "../campaigns/campaigns.server";
import { countContacts } from "../contacts/search.server";
import type { WorkspaceContext } from "../context";
import { listIntegrationStates } from "../delivery/integrations.server";
import { listTemplatePage } from "../templates/templates.server";
import { ONBOARDING_STEPS, type OnboardingStep } from "./onboarding-steps";

/**
 * The home checklist of a new workspace, in the order a marketer goes: contacts, a channel (or
 * the sandbox, chosen on purpose), a template, a first campaign, its report. Each step is read
 * from the data itself, so it ticks whoever did it and wherever; two facts that leave no row of
 * their own (the sandbox chosen, a report opened) are kept in the workspace file's tenant_meta.
 */

const SANDBOX_CHOSEN = "onboarding.sandbox_chosen_at";
const REPORT_VIEWED = "onboarding.report_viewed_at";

export interface Onboarding {
  done: Record<OnboardingStep, boolean>;
  /** The channel step was ticked by choosing the sandbox, not by connecting a provider. */
  sandboxChosen: boolean;
  connectedChannels: number;
  contacts: number;
  completed: number;
  complete: boolean;
}

function metaOf(ctx: WorkspaceContext, key: string): string | null {
  return (
    ctx.db.select({ value: tenantMeta.value }).from(tenantMeta).where(eq(tenantMeta.key, key)).get()
      ?.value ?? null
  );
}

/** Sets a fact once; later calls keep the first time. True when this call set it. */
function markOnce(ctx: WorkspaceContext, key: string): boolean {
  const result = ctx.db
    .insert(tenantMeta)
    .values({ key, value: ctx.now().toISOString() })
    .onConflictDoNothing()
    .run();
  return result.changes > 0;
}

export function getOnboarding(ctx: WorkspaceContext): Onboarding {
  const contacts = countContacts(ctx);
  const connectedChannels = listIntegrationStates(ctx.workspaceId).filter(
    (i) => i.connected,
  ).length;
  const sandboxChosen = metaOf(ctx, SANDBOX_CHOSEN) !== null;
  const done: Record<OnboardingStep, boolean> = {
    contacts: contacts > 0,
    channel: connectedChannels > 0 || sandboxChosen,
    template: listTemplatePage(ctx, { pageSize: 1 }).total > 0,
    campaign: hasStartedCampaign(ctx),
    report: metaOf(ctx, REPORT_VIEWED) !== null,
  };
  const completed = ONBOARDING_STEPS.filter((s) => done[s]).length;
  return {
    done,
    sandboxChosen: sandboxChosen && connectedChannels === 0,
    connectedChannels,
    contacts,
    completed,
    complete: completed === ONBOARDING_STEPS.length,
  };
}

/** "Use the sandbox for now": the channel step is done without connecting a provider. */
export function chooseSandbox(ctx: WorkspaceContext): void {
  if (markOnce(ctx, SANDBOX_CHOSEN)) {
    recordAudit(ctx, {
      action: "onboarding.sandbox_chosen",
      workspaceId: ctx.workspaceId,
      target: { type: "workspace", id: ctx.workspaceId },
    });
  }
}

/**
 * A member opened a campaign report. Only this fact is kept (once, with its first time): it is
 * not a message open and counts in no campaign number.
 */
export function recordReportViewed(ctx: WorkspaceContext): void {
  markOnce(ctx, REPORT_VIEWED);
}
