import { Link } from "@remix-run/react";
import { WIZARD_STEP_LABELS, WIZARD_STEPS, type WizardStep } from "~/lib/campaign-wizard";

/**
 * Where the new-campaign wizard is: the steps in order, the current one marked for assistive
 * tech (aria-current="step"); earlier steps link back with the answers kept.
 */
export function CampaignSteps({
  current,
  hrefFor,
}: {
  current: WizardStep | "review";
  /** The URL of an earlier step, or null when it cannot be revisited from here. */
  hrefFor: (step: WizardStep) => string | null;
}) {
  const order = [...WIZARD_STEPS, "review"] as const;
  const at = order.indexOf(current);
  return (
    <nav aria-label="Campaign steps">
      <ol className="wizard-steps">
        {order.map((step, index) => {
          const label = `${index + 1}. ${WIZARD_STEP_LABELS[step]}`;
          const href = index < at && step !== "review" ? hrefFor(step) : null;
          const state = index < at ? "done" : index === at ? "current" : "todo";
          return (
            <li key={step} className={`wizard-step wizard-step-${state}`}>
              {index === at ? (
                <span aria-current="step">{label}</span>
              ) : href ? (
                <Link to={href}>{label}</Link>
              ) : (
                <span>{label}</span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

/** The campaign's progress bar: a share of its recipients that reached an end. */
export function CampaignProgressBar({ percent, label }: { percent: number; label: string }) {
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-valuetext={`${percent}%`}
    >
      <div className="progress-bar" style={{ width: `${percent}%` }} />
    </div>
  );
}
