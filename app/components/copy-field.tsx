import { useEffect, useId, useRef, useState, type ReactNode } from "react";

/**
 * A value to copy (a webhook URL, a deep link): a read-only input anyone can focus and select
 * with the keyboard, and, once JavaScript runs, a Copy button that puts it on the clipboard and
 * says so politely to screen readers.
 */
export function CopyField({
  label,
  value,
  hint,
}: {
  label: ReactNode;
  value: string;
  hint?: ReactNode;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [hydrated, setHydrated] = useState(false);
  const [status, setStatus] = useState("");
  useEffect(() => setHydrated(true), []);
  useEffect(() => {
    if (!status) return;
    const timer = setTimeout(() => setStatus(""), 4000);
    return () => clearTimeout(timer);
  }, [status]);

  async function copy() {
    const field = input.current;
    try {
      await navigator.clipboard.writeText(value);
      setStatus("Copied.");
    } catch {
      // No clipboard permission (e.g. plain http): select it so Ctrl+C / Cmd+C copies it.
      field?.focus();
      field?.select();
      setStatus("Selected: press Ctrl+C (or ⌘C) to copy.");
    }
  }

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-field">
        <input
          ref={input}
          id={id}
          type="text"
          readOnly
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          aria-describedby={hint ? `${id}-hint` : undefined}
        />
        {hydrated ? (
          <button type="button" className="btn btn-secondary" onClick={() => void copy()}>
            Copy<span className="visually-hidden"> {label}</span>
          </button>
        ) : null}
      </div>
      {hint ? (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      ) : null}
      <p className="copy-status" role="status" aria-live="polite">
        {status}
      </p>
    </div>
  );
}
