import { useState, type KeyboardEvent, type RefObject } from "react";

export interface CannedOption {
  id: number;
  shortcut: string;
  title: string;
  prompts: string[];
  attachments: number;
}

/** The "/word" being typed just before the caret, if it starts a word; null otherwise. */
export function slashQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)\/([a-z0-9_-]*)$/i.exec(before);
  if (!match) return null;
  return { start: caret - match[2]!.length - 1, query: match[2]!.toLowerCase() };
}

export function matchingCanned(options: CannedOption[], query: string): CannedOption[] {
  return options.filter(
    (o) => o.shortcut.toLowerCase().startsWith(query) || o.title.toLowerCase().includes(query),
  );
}

/**
 * The "/" listbox under the Reply box (arrows move, Enter or a click picks, Escape closes). The
 * caret stays in the Reply box; the active option is announced through aria-activedescendant.
 */
export function CannedListbox({
  options,
  active,
  onPick,
}: {
  options: CannedOption[];
  active: number;
  onPick: (option: CannedOption) => void;
}) {
  return (
    <ul id="canned-listbox" role="listbox" aria-label="Canned responses" className="inbox-canned">
      {options.length === 0 ? (
        <li role="option" aria-selected={false} aria-disabled className="muted">
          No canned response starts with that.
        </li>
      ) : (
        options.map((o, i) => (
          <li
            key={o.id}
            id={`canned-option-${o.id}`}
            role="option"
            aria-selected={i === active}
            className={i === active ? "is-active" : undefined}
            onMouseDown={(e) => {
              // Keeps the focus (and caret) in the Reply box.
              e.preventDefault();
              onPick(o);
            }}
          >
            /{o.shortcut} — {o.title}
          </li>
        ))
      )}
    </ul>
  );
}

/** Keyboard handling of the listbox, from the Reply box's onKeyDown; true when it took the key. */
export function listboxKey(
  event: KeyboardEvent<HTMLTextAreaElement>,
  state: { options: CannedOption[]; active: number },
  actions: { move: (to: number) => void; pick: (o: CannedOption) => void; close: () => void },
): boolean {
  const { options, active } = state;
  switch (event.key) {
    case "ArrowDown":
      actions.move(options.length ? (active + 1) % options.length : 0);
      break;
    case "ArrowUp":
      actions.move(options.length ? (active - 1 + options.length) % options.length : 0);
      break;
    case "Enter":
    case "Tab": {
      const option = options[active];
      if (!option) return false;
      actions.pick(option);
      break;
    }
    case "Escape":
      actions.close();
      break;
    default:
      return false;
  }
  event.preventDefault();
  return true;
}

/**
 * The form's own way to insert a canned response (and the only one without JavaScript): a
 * select, the chosen response's prompts, and "Insert", which posts the Reply box's text and
 * comes back with the response added.
 */
export function CannedInsertFields({
  options,
  chosen,
  onChoose,
  prompts,
  insertRef,
}: {
  options: CannedOption[];
  chosen: string;
  onChoose: (id: string) => void;
  prompts: string[];
  insertRef: RefObject<HTMLButtonElement>;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  if (options.length === 0) return null;
  return (
    <fieldset className="inbox-canned-insert">
      <div className="field">
        <label htmlFor="canned-select">Canned response</label>
        <select
          id="canned-select"
          name="canned"
          value={chosen}
          onChange={(e) => onChoose(e.target.value)}
        >
          <option value="">Choose…</option>
          {options.map((o) => (
            <option key={o.id} value={o.id}>
              /{o.shortcut} — {o.title}
            </option>
          ))}
        </select>
      </div>
      {prompts.map((p, i) => (
        <div className="field" key={p}>
          <label htmlFor={`canned-prompt-${i}`}>{p}</label>
          <input
            id={`canned-prompt-${i}`}
            name={`prompt:${p}`}
            value={values[p] ?? ""}
            autoFocus={i === 0}
            onChange={(e) => setValues((v) => ({ ...v, [p]: e.target.value }))}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                insertRef.current?.click();
              }
            }}
          />
        </div>
      ))}
      <button
        ref={insertRef}
        type="submit"
        className="btn btn-secondary"
        name="intent"
        value="insert"
        formNoValidate
      >
        Insert
      </button>
    </fieldset>
  );
}
