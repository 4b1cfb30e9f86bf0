/** The loader's explanation of a provider error (explainProviderError in domain/analytics). */
export interface PlainProviderErrorView {
  summary: string;
  action: string | null;
  detail: string | null;
}

/**
 * A provider's error as a person reads it: what happened and what to do, with the provider's
 * own code and words kept on a details line for support and searching.
 */
export function ProviderErrorText({ plain }: { plain: PlainProviderErrorView | null }) {
  if (!plain) return null;
  return (
    <span className="provider-error">
      <span className="provider-error-summary">{plain.summary}</span>
      {plain.action ? <span className="provider-error-action">{plain.action}</span> : null}
      {plain.detail ? (
        <span className="provider-error-detail">
          Details: <code>{plain.detail}</code>
        </span>
      ) : null}
    </span>
  );
}
