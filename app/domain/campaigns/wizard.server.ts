import { CHANNEL_LABELS, CHANNELS, isChannel, type Channel } from "~/lib/channels";
import { NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { formatDateTime } from "~/lib/format";
import { zonedWallTimeToInstant, zoneOffsetMs } from "~/lib/time-zone";
import { listGroups } from "../contacts/groups.server";
import { countSavedSegments, getSegment, listSegments } from "../segments/segments.server";
import { PROVIDER_LABELS } from "../delivery/integration-fields";
import { listIntegrations } from "../delivery/integrations.server";
import { getTemplate, listTemplates, sendableReason } from "../templates/templates.server";
import {
  AbTest,
  createCampaign,
  reviewCampaign,
  updateCampaign,
  type Campaign,
  type CampaignContext,
} from "./campaigns.server";
import { costUnitFor } from "./renderers.server";
import type { Review } from "./review.server";
import { WIZARD_STEPS, type WizardAnswers, type WizardStep } from "~/lib/campaign-wizard";

/**
 * The new-campaign wizard on the server: the choices each step offers (channels with the
 * account they send through, audiences with their size, the channel's sendable templates),
 * each step's validation, and the draft made from all the answers. The page carries the answers
 * from step to step; nothing is stored until the last step, so abandoning it leaves nothing.
 */

const VARIANT_FIELDS = [
  ["A", "templateA"],
  ["B", "templateB"],
  ["C", "templateC"],
  ["D", "templateD"],
] as const;

export interface ChannelChoice {
  value: Channel;
  label: string;
  /** "WhatsApp Cloud API (Meta)" or null: the sandbox. */
  provider: string | null;
  ratePerSecond: number | null;
}

export interface AudienceChoice {
  value: string;
  label: string;
  kind: "segment" | "list";
  /** null: not counted within the page's budget (the review counts it). */
  size: number | null;
  problem: string | null;
}

export interface TemplateChoice {
  value: string;
  label: string;
}

export interface WizardChoices {
  channels: ChannelChoice[];
  audiences: AudienceChoice[];
  templates: TemplateChoice[];
  /** Templates of the channel that cannot be sent now (e.g. WhatsApp ones Meta has not approved). */
  unsendable: number;
}

export function wizardChoices(ctx: CampaignContext, answers: WizardAnswers): WizardChoices {
  const integrations = new Map(listIntegrations(ctx.workspaceId).map((i) => [i.channel, i]));
  const channels = CHANNELS.map((channel) => {
    const integration = integrations.get(channel);
    return {
      value: channel,
      label: CHANNEL_LABELS[channel],
      provider: integration ? PROVIDER_LABELS[integration.provider] : null,
      ratePerSecond: integration?.ratePerSecond ?? null,
    };
  });
  const segments = listSegments(ctx);
  const counts = countSavedSegments(ctx, segments, 200);
  const audiences: AudienceChoice[] = [
    ...segments.map((s) => ({
      value: `segment:${s.id}`,
      label: s.name,
      kind: "segment" as const,
      size: counts.get(s.id)?.count ?? null,
      problem: s.problem ?? counts.get(s.id)?.problem ?? null,
    })),
    ...listGroups(ctx, "list").map((l) => ({
      value: `list:${l.id}`,
      label: l.name,
      kind: "list" as const,
      size: l.contacts,
      problem: null,
    })),
  ];
  const channel = isChannel(answers.channel ?? "") ? (answers.channel as Channel) : null;
  const all = channel ? listTemplates(ctx, { channel }) : [];
  const sendable = all.filter((t) => sendableReason(t) === null);
  return {
    channels,
    audiences,
    templates: sendable.map((t) => ({
      value: String(t.id),
      label: t.channel === "whatsapp" ? `${t.name} (${t.language})` : t.name,
    })),
    unsendable: all.length - sendable.length,
  };
}

function positiveId(value: string | undefined): number | null {
  return value && /^[1-9]\d{0,14}$/.test(value) ? Number(value) : null;
}

function parseAudience(value: string | undefined): { type: "segment" | "list"; id: number } | null {
  const match = /^(segment|list):([1-9]\d{0,14})$/.exec(value ?? "");
  return match ? { type: match[1] as "segment" | "list", id: Number(match[2]) } : null;
}

/** The answers as CampaignInput (validated by createCampaign / updateCampaign). */
export function inputFromAnswers(answers: WizardAnswers, timeZone: string) {
  const abTest = answers.abTest === "on";
  const variants = VARIANT_FIELDS.filter(([key]) => abTest || key === "A")
    .map(([key, field]) => ({ key, templateId: positiveId(answers[field]) }))
    .filter((v) => v.templateId !== null);
  const when = answers.when ?? "now";
  const schedule =
    when === "at"
      ? {
          type: "at",
          at: zonedWallTimeToInstant(answers.date ?? "", answers.time ?? "", timeZone),
        }
      : when === "local"
        ? { type: "local", date: answers.date, time: answers.time }
        : { type: "now" };
  return {
    name: answers.name ?? "",
    channel: answers.channel,
    audience: parseAudience(answers.audience),
    variants,
    abTest: abTest
      ? {
          samplePercent: answers.samplePercent,
          metric: answers.metric,
          decideAfterMinutes: answers.decideAfterMinutes,
        }
      : null,
    schedule,
    throttlePerSecond: answers.throttle ?? null,
  };
}

/** The answers that rebuild a draft in the wizard (Edit from the review). */
export function answersFromCampaign(campaign: Campaign, timeZone: string): WizardAnswers {
  const answers: WizardAnswers = {
    name: campaign.name,
    channel: campaign.channel,
    audience: `${campaign.audience.type}:${campaign.audience.id}`,
  };
  for (const variant of campaign.variants)
    answers[`template${variant.key}`] = String(variant.templateId);
  if (campaign.abTest) {
    answers.abTest = "on";
    answers.samplePercent = String(campaign.abTest.samplePercent);
    answers.metric = campaign.abTest.metric;
    answers.decideAfterMinutes = String(campaign.abTest.decideAfterMinutes);
  }
  answers.when = campaign.schedule.type;
  if (campaign.schedule.type === "at") {
    const wall = new Date(campaign.schedule.at + zoneOffsetMs(campaign.schedule.at, timeZone));
    answers.date = wall.toISOString().slice(0, 10);
    answers.time = wall.toISOString().slice(11, 16);
  } else if (campaign.schedule.type === "local") {
    answers.date = campaign.schedule.date;
    answers.time = campaign.schedule.time;
  }
  if (campaign.throttlePerSecond) answers.throttle = String(campaign.throttlePerSecond);
  return answers;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The field errors of one step's answers; empty when the step is fine. */
export function validateStep(
  ctx: CampaignContext,
  step: WizardStep,
  answers: WizardAnswers,
): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  switch (step) {
    case "channel": {
      const name = (answers.name ?? "").trim();
      if (!name) add("name", "Name the campaign.");
      else if (name.length > 120) add("name", "Use at most 120 characters.");
      if (!isChannel(answers.channel ?? "")) {
        add("channel", "Choose a channel.");
      }
      break;
    }
    case "audience": {
      const audience = parseAudience(answers.audience);
      if (!audience) {
        add("audience", "Choose a segment or a list.");
        break;
      }
      try {
        if (audience.type === "segment") {
          const segment = getSegment(ctx, audience.id);
          if (segment.problem) add("audience", segment.problem);
        } else if (!listGroups(ctx, "list", { counts: false }).some((l) => l.id === audience.id)) {
          throw new NotFoundError("List", audience.id);
        }
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        add("audience", "That segment or list no longer exists. Choose another.");
      }
      break;
    }
    case "template": {
      const abTest = answers.abTest === "on";
      const chosen = VARIANT_FIELDS.filter(([key]) => abTest || key === "A").filter(
        ([, field]) => answers[field],
      );
      if (!answers.templateA) add("templateA", "Choose a template.");
      for (const [key, field] of chosen) {
        const problem = templateProblem(ctx, answers.channel, answers[field]!, key);
        if (problem) add(field, problem);
      }
      if (abTest) {
        const ids = chosen.map(([, field]) => answers[field]);
        if (ids.length < 2) add("templateB", "An A/B test needs at least two templates.");
        else if (new Set(ids).size !== ids.length) {
          add("templateB", "Choose a different template for each variant.");
        }
        const settings = AbTest.safeParse({
          samplePercent: answers.samplePercent,
          metric: answers.metric,
          decideAfterMinutes: answers.decideAfterMinutes,
        });
        if (!settings.success) {
          for (const issue of settings.error.issues) {
            add(String(issue.path[0]), AB_MESSAGES[String(issue.path[0])] ?? issue.message);
          }
        }
      }
      break;
    }
    case "schedule": {
      const when = answers.when ?? "";
      if (!["now", "at", "local"].includes(when)) {
        add("when", "Choose when to send.");
        break;
      }
      if (when !== "now") {
        if (!DATE.test(answers.date ?? "")) add("date", "Choose a date.");
        if (!TIME.test(answers.time ?? "")) add("time", "Choose a time.");
        if (!errors.date && !errors.time) {
          const at = zonedWallTimeToInstant(answers.date!, answers.time!, ctx.workspace.timeZone);
          if (Number.isNaN(at)) add("date", "Choose a date.");
          else if (at <= ctx.now().getTime()) {
            add(
              "time",
              `That time has passed in the workspace's time zone (${ctx.workspace.timeZone}); choose a later one.`,
            );
          }
        }
      }
      if (answers.throttle !== undefined) {
        const rate = Number(answers.throttle);
        if (!Number.isInteger(rate) || rate < 1 || rate > 100_000) {
          add("throttle", "Enter whole messages per second from 1 to 100,000, or leave it blank.");
        }
      }
      break;
    }
  }
  return errors;
}

const AB_MESSAGES: Record<string, string> = {
  samplePercent: "The sample is a whole percentage from 2 to 50.",
  metric: "Choose how the winner is picked.",
  decideAfterMinutes: "Decide after 15 minutes to 7 days (10,080 minutes).",
};

function templateProblem(
  ctx: CampaignContext,
  channel: string | undefined,
  value: string,
  key: string,
): string | null {
  const id = positiveId(value);
  try {
    if (id === null) throw new NotFoundError("Template");
    const template = getTemplate(ctx, id);
    if (template.channel !== channel) {
      return `Variant ${key}: “${template.name}” is a ${CHANNEL_LABELS[template.channel]} template; choose one for this channel.`;
    }
    return sendableReason(template);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    return `Variant ${key}: that template no longer exists.`;
  }
}

/** The first step whose answers are not complete, with its errors; null when all are. */
export function firstIncompleteStep(
  ctx: CampaignContext,
  answers: WizardAnswers,
  upTo: WizardStep = "schedule",
): { step: WizardStep; errors: FieldErrors } | null {
  for (const step of WIZARD_STEPS) {
    const errors = validateStep(ctx, step, answers);
    if (Object.keys(errors).length > 0) return { step, errors };
    if (step === upTo) break;
  }
  return null;
}

/** Why a campaign's templates cannot be sent now (deleted, another channel, not approved). */
export function templateProblems(ctx: CampaignContext, campaign: Campaign): string[] {
  return campaign.variants
    .map((v) => templateProblem(ctx, campaign.channel, String(v.templateId), v.key))
    .filter((p): p is string => p !== null);
}

/**
 * The last step: the draft from every answer (new, or the one being edited). Throws a
 * ValidationError naming the step to go back to if any answer is no longer valid.
 */
export function saveDraft(
  ctx: CampaignContext,
  answers: WizardAnswers,
  campaignId?: number,
): Campaign {
  const incomplete = firstIncompleteStep(ctx, answers);
  if (incomplete) {
    throw new ValidationError(Object.values(incomplete.errors)[0]![0]!, incomplete.errors);
  }
  const input = inputFromAnswers(answers, ctx.workspace.timeZone);
  return campaignId === undefined
    ? createCampaign(ctx, input)
    : updateCampaign(ctx, campaignId, input);
}

/** A fresh review of a draft whose templates can be sent; null when they cannot. */
export function reviewDraft(ctx: CampaignContext, campaign: Campaign): Review | null {
  if (templateProblems(ctx, campaign).length > 0) return null;
  return reviewCampaign(ctx, campaign.id, costUnitFor(ctx, campaign));
}

/** How the schedule reads on the review and campaign pages. */
export function describeSchedule(campaign: Campaign, timeZone: string): string {
  const schedule = campaign.schedule;
  if (schedule.type === "at") {
    return `At ${formatDateTime(new Date(schedule.at), timeZone)} (workspace time zone)`;
  }
  if (schedule.type === "local") {
    return `At ${schedule.time} on ${schedule.date} in each contact's own time zone`;
  }
  return "As soon as it is sent (or approved)";
}
