"use client";

import { useState } from "react";
import { LOREBOOK_LIMITS, type Lorebook, type LorebookEntry } from "@/lib/schemas";
import { useI18n } from "../i18n-provider";
import { CloseIcon, PlusIcon } from "../icons";

/** An id no other entry of the book has (crypto.randomUUID needs a secure context). */
function newEntryId() {
  return `e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const newEntry = (): LorebookEntry => ({
  id: newEntryId(),
  name: "",
  keys: [],
  content: "",
  enabled: true,
  constant: false,
  caseSensitive: false,
  wholeWords: false,
  order: 100,
});

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, Math.round(value)));

/**
 * The character's world info: entries whose text joins the prompt while one of their keywords
 * is in the latest messages (or always, when constant).
 */
export function LorebookEditor({ value, onChange, error }: { value: Lorebook; onChange: (book: Lorebook) => void; error?: string[] }) {
  const { t } = useI18n();
  const setEntry = (id: string, patch: Partial<LorebookEntry>) =>
    onChange({ ...value, entries: value.entries.map((entry) => (entry.id === id ? { ...entry, ...patch } : entry)) });

  return (
    <fieldset className="card space-y-4 p-4" data-testid="lorebook-editor">
      <legend className="px-1 text-sm font-semibold">{t("lorebook.title")}</legend>
      <p className="-mt-1 text-xs text-zinc-500">{t("lorebook.hint")}</p>

      <div className="grid grid-cols-2 gap-3">
        <NumberField
          id="lb-scan-depth"
          label={t("lorebook.scanDepth")}
          hint={t("lorebook.scanDepthHint")}
          value={value.scanDepth}
          min={1}
          max={LOREBOOK_LIMITS.scanDepth}
          onChange={(scanDepth) => onChange({ ...value, scanDepth })}
        />
        <NumberField
          id="lb-token-budget"
          label={t("lorebook.tokenBudget")}
          hint={t("lorebook.tokenBudgetHint")}
          value={value.tokenBudget}
          min={16}
          max={LOREBOOK_LIMITS.tokenBudget}
          onChange={(tokenBudget) => onChange({ ...value, tokenBudget })}
        />
      </div>

      {value.entries.length === 0 && <p className="rounded-xl border border-dashed border-white/10 p-4 text-center text-sm text-zinc-500">{t("lorebook.empty")}</p>}

      <ol className="space-y-3">
        {value.entries.map((entry, index) => (
          <li key={entry.id} className={`rounded-xl border border-white/10 bg-white/[0.03] p-3 ${entry.enabled ? "" : "opacity-70"}`} data-testid="lorebook-entry">
            <div className="flex items-center gap-2">
              <span className="grid size-7 shrink-0 place-items-center rounded-full bg-white/5 text-xs text-zinc-400" aria-hidden>
                {index + 1}
              </span>
              <input
                className="field h-10 min-w-0 flex-1 py-1.5 text-sm"
                value={entry.name}
                maxLength={LOREBOOK_LIMITS.name}
                placeholder={t("lorebook.namePlaceholder")}
                aria-label={t("lorebook.name", { n: index + 1 })}
                onChange={(e) => setEntry(entry.id, { name: e.target.value })}
                data-testid="lorebook-entry-name"
              />
              <label className="flex h-10 shrink-0 cursor-pointer items-center gap-1.5 rounded-lg px-2 text-xs text-zinc-300 hover:bg-white/5">
                <input type="checkbox" className="size-4 accent-brand-500" checked={entry.enabled} onChange={(e) => setEntry(entry.id, { enabled: e.target.checked })} />
                {t("lorebook.enabled")}
              </label>
              <button
                type="button"
                className="btn-ghost h-10 shrink-0 px-2.5"
                aria-label={t("lorebook.remove", { n: index + 1 })}
                onClick={() => onChange({ ...value, entries: value.entries.filter((e) => e.id !== entry.id) })}
              >
                <CloseIcon />
              </button>
            </div>

            <div className="mt-3 space-y-3">
              <KeywordInput
                id={`lb-keys-${entry.id}`}
                keys={entry.keys}
                disabled={entry.constant}
                onChange={(keys) => setEntry(entry.id, { keys })}
              />
              <div>
                <label className="label" htmlFor={`lb-content-${entry.id}`}>
                  {t("lorebook.content")}
                </label>
                <textarea
                  id={`lb-content-${entry.id}`}
                  className="field text-sm"
                  rows={3}
                  value={entry.content}
                  maxLength={LOREBOOK_LIMITS.content}
                  onChange={(e) => setEntry(entry.id, { content: e.target.value })}
                  data-testid="lorebook-entry-content"
                />
              </div>
              <div className="flex flex-wrap items-center gap-x-1 gap-y-1">
                <Check label={t("lorebook.constant")} title={t("lorebook.constantHint")} checked={entry.constant} onChange={(constant) => setEntry(entry.id, { constant })} />
                <Check label={t("lorebook.caseSensitive")} checked={entry.caseSensitive} onChange={(caseSensitive) => setEntry(entry.id, { caseSensitive })} />
                <Check label={t("lorebook.wholeWords")} title={t("lorebook.wholeWordsHint")} checked={entry.wholeWords} onChange={(wholeWords) => setEntry(entry.id, { wholeWords })} />
                <label className="ml-auto flex h-10 items-center gap-2 text-xs text-zinc-300" title={t("lorebook.orderHint")}>
                  {t("lorebook.order")}
                  <input
                    type="number"
                    className="field h-9 w-20 px-2 py-1 text-sm"
                    min={0}
                    max={10_000}
                    value={entry.order}
                    onChange={(e) => setEntry(entry.id, { order: clamp(Number(e.target.value) || 0, 0, 10_000) })}
                  />
                </label>
              </div>
            </div>
          </li>
        ))}
      </ol>

      {value.entries.length < LOREBOOK_LIMITS.entries && (
        <button type="button" className="btn-ghost min-h-10 px-3" onClick={() => onChange({ ...value, entries: [...value.entries, newEntry()] })} data-testid="lorebook-add">
          <PlusIcon /> {t("lorebook.add")}
        </button>
      )}
      {error?.map((message) => (
        <p key={message} className="text-sm text-rose-400" role="alert">
          {message}
        </p>
      ))}
    </fieldset>
  );
}

function NumberField({ id, label, hint, value, min, max, onChange }: { id: string; label: string; hint: string; value: number; min: number; max: number; onChange: (value: number) => void }) {
  // Typed freely; kept within its limits once the field is left.
  const [text, setText] = useState(String(value));
  return (
    <div>
      <label className="label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        className="field"
        min={min}
        max={max}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          const n = Number(e.target.value);
          if (e.target.value !== "" && Number.isFinite(n) && n >= min && n <= max) onChange(Math.round(n));
        }}
        onBlur={() => {
          const n = clamp(Number(text) || min, min, max);
          setText(String(n));
          onChange(n);
        }}
      />
      <p className="mt-1 text-xs text-zinc-500">{hint}</p>
    </div>
  );
}

function Check({ label, title, checked, onChange }: { label: string; title?: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <label className="flex h-10 cursor-pointer items-center gap-1.5 rounded-lg px-2 text-xs text-zinc-300 hover:bg-white/5" title={title}>
      <input type="checkbox" className="size-4 accent-brand-500" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}

/** Keywords as chips: Enter, a comma or leaving the field adds what was typed; a pasted list is split at commas. */
function KeywordInput({ id, keys, disabled, onChange }: { id: string; keys: string[]; disabled: boolean; onChange: (keys: string[]) => void }) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const add = (typed: string) => {
    const fresh = typed
      .split(/[,\n]/)
      .map((k) => k.trim().slice(0, LOREBOOK_LIMITS.key))
      .filter((k) => k && !keys.includes(k));
    if (fresh.length) onChange([...keys, ...new Set(fresh)].slice(0, LOREBOOK_LIMITS.keys));
    setText("");
  };
  return (
    <div>
      <label className="label" htmlFor={id}>
        {t("lorebook.keys")}
      </label>
      <div className={`field flex flex-wrap items-center gap-1.5 py-0.5 ${disabled ? "opacity-60" : ""}`}>
        {keys.map((key) => (
          <span key={key} className="chip gap-1 py-1 pr-1 text-[13px]" data-testid="lorebook-key">
            {key}
            <button
              type="button"
              className="relative grid size-6 place-items-center rounded-full text-zinc-400 after:absolute after:-inset-2 hover:bg-white/10 hover:text-zinc-100"
              aria-label={t("lorebook.removeKey", { key })}
              onClick={() => onChange(keys.filter((k) => k !== key))}
            >
              <CloseIcon width={13} height={13} />
            </button>
          </span>
        ))}
        <input
          id={id}
          className="h-10 min-w-24 flex-1 bg-transparent text-sm outline-none"
          value={text}
          placeholder={keys.length === 0 ? t("lorebook.keysPlaceholder") : undefined}
          onChange={(e) => (/[,\n]/.test(e.target.value) ? add(e.target.value) : setText(e.target.value))}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.nativeEvent.isComposing) {
              e.preventDefault();
              add(text);
            } else if (e.key === "Backspace" && text === "" && keys.length > 0) {
              onChange(keys.slice(0, -1));
            }
          }}
          onBlur={() => add(text)}
          data-testid="lorebook-entry-keys"
        />
      </div>
      <p className="mt-1 text-xs text-zinc-500">{disabled ? t("lorebook.keysConstant") : t("lorebook.keysHint")}</p>
    </div>
  );
}
