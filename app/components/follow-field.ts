import { useRef, type ChangeEvent } from "react";

/**
 * A field filled in from another as it is typed (workspace address from its name, attribute key
 * from its label) until the person edits it themselves; emptying it makes it follow again.
 * Spread `source` on the typed-in input and `target` on the derived one (found by its name in the
 * same form). Without JavaScript nothing is filled in and the server derives the value instead.
 */
export function useFollowField(targetName: string, derive: (text: string) => string) {
  const edited = useRef(false);
  return {
    source: {
      onChange(event: ChangeEvent<HTMLInputElement>) {
        if (edited.current) return;
        const target = event.currentTarget.form?.elements.namedItem(targetName);
        if (target instanceof HTMLInputElement) target.value = derive(event.currentTarget.value);
      },
    },
    target: {
      onChange(event: ChangeEvent<HTMLInputElement>) {
        edited.current = event.currentTarget.value !== "";
      },
    },
  };
}
