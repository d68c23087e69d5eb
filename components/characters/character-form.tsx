"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Image from "next/image";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState, type ReactNode } from "react";
import { describeError, fieldErrorsOf } from "@/lib/app-error";
import { CHARACTER_LIMITS, emptyLorebook, LIMITS, type CharacterInput } from "@/lib/schemas";
import { useTRPC } from "@/lib/trpc/react";
import { DEFAULT_PORTRAIT } from "../character-card";
import { useI18n } from "../i18n-provider";
import { categoryLabel, voiceName } from "@/lib/i18n/labels";
import { ChevronRightIcon, CloseIcon, PlusIcon } from "../icons";
import { readFileAsBase64 } from "./files";
import { LorebookEditor } from "./lorebook-editor";
import { ErrorNote } from "../error-note";

export type CharacterDraft = CharacterInput & { imageUrl: string | null };

const EMPTY: CharacterDraft = {
  name: "",
  description: "",
  persona: "",
  personality: "",
  creatorNotes: "",
  lorebook: emptyLorebook,
  greeting: "",
  alternateGreetings: [],
  exampleDialogue: "",
  scenario: { opponent: "", situation: "", background: "" },
  systemPrompt: "",
  voiceId: null,
  category: "",
  tags: [],
  visibility: "private",
  imageUrl: null,
};

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];

type FieldErrors = Record<string, string[] | undefined>;

/** Create or edit a character. What was typed stays in the form whatever the save does. */
export function CharacterForm({
  characterId,
  initial,
  discardOnCancel,
}: {
  characterId?: string;
  initial?: CharacterDraft;
  /** A copy just made by "duplicate": Cancel removes it again and goes back to the original. */
  discardOnCancel?: { returnTo: string };
}) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const [draft, setDraft] = useState<CharacterDraft>(initial ?? EMPTY);
  const [imageId, setImageId] = useState<string | null | undefined>(undefined);
  const [imageError, setImageError] = useState<string | null>(null);
  const [tagText, setTagText] = useState("");
  const [advanced, setAdvanced] = useState(Boolean(initial?.systemPrompt));
  const [nameMissing, setNameMissing] = useState(false);
  const nameInput = useRef<HTMLInputElement>(null);
  const voices = useQuery(trpc.voices.list.queryOptions());
  const defaultVoice = voices.data?.voices.find((voice) => voice.id === voices.data.defaultVoiceId);
  const facets = useQuery(trpc.characters.facets.queryOptions());
  const set = <K extends keyof CharacterDraft>(key: K, value: CharacterDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const upload = useMutation(
    trpc.characters.uploadImage.mutationOptions({
      onSuccess: ({ imageId: id, imageUrl }) => {
        setImageId(id);
        set("imageUrl", imageUrl);
      },
      onError: (error) => setImageError(describeError(error, t)),
    }),
  );
  const onSaved = (saved: { id: string }) => router.push(`/characters/${saved.id}`);
  const create = useMutation(trpc.characters.create.mutationOptions({ onSuccess: onSaved }));
  const update = useMutation(trpc.characters.update.mutationOptions({ onSuccess: onSaved }));
  const discard = useMutation(
    trpc.characters.delete.mutationOptions({
      // Gone or not, the original is where the user goes back to.
      onSettled: () => router.push(discardOnCancel?.returnTo ?? "/"),
    }),
  );
  const saving = create.isPending || update.isPending;
  const saveError = create.error ?? update.error;
  const fieldErrors: FieldErrors = fieldErrorsOf(saveError, t);

  const pickImage = async (file: File | undefined) => {
    setImageError(null);
    if (!file) return;
    if (!IMAGE_TYPES.includes(file.type)) return setImageError(t("form.imageType"));
    if (file.size > CHARACTER_LIMITS.imageBytes) return setImageError(t("form.imageSize"));
    upload.mutate({ dataBase64: await readFileAsBase64(file) });
  };

  const addTag = () => {
    const tag = tagText.trim().replace(/^#/, "").replace(/,$/, "");
    if (tag && !draft.tags.includes(tag) && draft.tags.length < CHARACTER_LIMITS.tags) set("tags", [...draft.tags, tag.slice(0, CHARACTER_LIMITS.tag)]);
    setTagText("");
  };

  const submit = () => {
    if (!draft.name.trim()) {
      setNameMissing(true);
      nameInput.current?.focus();
      return;
    }
    const { imageUrl: _shown, ...rest } = draft;
    const fields = { ...rest, alternateGreetings: rest.alternateGreetings.filter((greeting) => greeting.trim()) };
    if (characterId) update.mutate({ id: characterId, data: { ...fields, imageId } });
    else create.mutate({ ...fields, imageId });
  };

  return (
    <form
      className="mt-6 grid gap-8 md:grid-cols-[240px_1fr]"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
      data-testid="character-form"
    >
      <div>
        <PortraitPicker imageUrl={draft.imageUrl} uploading={upload.isPending} onFile={pickImage} />
        {imageError && (
          <p className="mt-2 text-sm text-rose-400" role="alert" data-testid="image-error">
            {imageError}
          </p>
        )}
      </div>

      <div className="min-w-0 space-y-6">
        <Field
          htmlFor="f-name"
          label={t("form.name")}
          error={nameMissing ? [t("form.nameRequired")] : fieldErrors.name}
          count={[draft.name.length, CHARACTER_LIMITS.name]}
        >
          <input
            ref={nameInput}
            id="f-name"
            className="field"
            value={draft.name}
            required
            aria-invalid={nameMissing || Boolean(fieldErrors.name)}
            maxLength={CHARACTER_LIMITS.name}
            onChange={(e) => {
              setNameMissing(false);
              set("name", e.target.value);
            }}
            data-testid="field-name"
          />
        </Field>
        <Field htmlFor="f-description" label={t("form.description")} hint={t("form.descriptionHint")} error={fieldErrors.description} count={[draft.description.length, CHARACTER_LIMITS.description]}>
          <textarea id="f-description" className="field" rows={2} value={draft.description} maxLength={CHARACTER_LIMITS.description} onChange={(e) => set("description", e.target.value)} />
        </Field>
        <Field htmlFor="f-creator-notes" label={t("form.creatorNotes")} hint={t("form.creatorNotesHint")} error={fieldErrors.creatorNotes} count={[draft.creatorNotes.length, CHARACTER_LIMITS.creatorNotes]}>
          <textarea id="f-creator-notes" className="field" rows={3} value={draft.creatorNotes} maxLength={CHARACTER_LIMITS.creatorNotes} onChange={(e) => set("creatorNotes", e.target.value)} data-testid="field-creator-notes" />
        </Field>
        <Field htmlFor="f-persona" label={t("form.persona")} hint={t("form.personaHint")} error={fieldErrors.persona} count={[draft.persona.length, CHARACTER_LIMITS.persona]}>
          <textarea id="f-persona" className="field" rows={7} value={draft.persona} maxLength={CHARACTER_LIMITS.persona} onChange={(e) => set("persona", e.target.value)} data-testid="field-persona" />
        </Field>
        <Field htmlFor="f-personality" label={t("form.personality")} hint={t("form.personalityHint")} error={fieldErrors.personality} count={[draft.personality.length, CHARACTER_LIMITS.personality]}>
          <textarea id="f-personality" className="field" rows={2} value={draft.personality} maxLength={CHARACTER_LIMITS.personality} onChange={(e) => set("personality", e.target.value)} data-testid="field-personality" />
        </Field>
        <Field htmlFor="f-greeting" label={t("form.greeting")} hint={t("form.greetingHint")} error={fieldErrors.greeting} count={[draft.greeting.length, CHARACTER_LIMITS.greeting]}>
          <textarea id="f-greeting" className="field" rows={3} value={draft.greeting} maxLength={CHARACTER_LIMITS.greeting} onChange={(e) => set("greeting", e.target.value)} data-testid="field-greeting" />
        </Field>

        <fieldset className="space-y-2">
          <legend className="label">{t("form.alternateGreetings")}</legend>
          {draft.alternateGreetings.map((greeting, index) => (
            <div key={index} className="flex gap-2">
              <textarea
                className="field"
                rows={2}
                value={greeting}
                maxLength={CHARACTER_LIMITS.greeting}
                aria-label={`${t("form.alternateGreetings")} ${index + 1}`}
                onChange={(e) => set("alternateGreetings", draft.alternateGreetings.map((g, i) => (i === index ? e.target.value : g)))}
              />
              <button type="button" className="btn-ghost h-11 px-3" aria-label={t("form.remove")} onClick={() => set("alternateGreetings", draft.alternateGreetings.filter((_, i) => i !== index))}>
                <CloseIcon />
              </button>
            </div>
          ))}
          {draft.alternateGreetings.length < CHARACTER_LIMITS.alternateGreetings && (
            <button type="button" className="btn-ghost min-h-10 px-3" onClick={() => set("alternateGreetings", [...draft.alternateGreetings, ""])}>
              <PlusIcon /> {t("form.addGreeting")}
            </button>
          )}
          <FieldError messages={fieldErrors.alternateGreetings} />
        </fieldset>

        <Field htmlFor="f-example" label={t("form.exampleDialogue")} hint={t("form.exampleHint")} error={fieldErrors.exampleDialogue} count={[draft.exampleDialogue.length, CHARACTER_LIMITS.exampleDialogue]}>
          <textarea id="f-example" className="field font-mono text-sm" rows={5} value={draft.exampleDialogue} maxLength={CHARACTER_LIMITS.exampleDialogue} onChange={(e) => set("exampleDialogue", e.target.value)} />
        </Field>

        <fieldset className="card space-y-4 p-4">
          <legend className="px-1 text-sm font-semibold">{t("character.scenario")}</legend>
          {(["opponent", "situation", "background"] as const).map((key) => (
            <Field htmlFor={`f-scenario-${key}`} key={key} label={t(`character.${key}`)}>
              <textarea
                id={`f-scenario-${key}`}
                className="field"
                rows={key === "opponent" ? 1 : 2}
                value={draft.scenario[key]}
                maxLength={LIMITS.scenarioField}
                onChange={(e) => set("scenario", { ...draft.scenario, [key]: e.target.value })}
              />
            </Field>
          ))}
          <FieldError messages={fieldErrors.scenario} />
        </fieldset>

        <LorebookEditor value={draft.lorebook} onChange={(lorebook) => set("lorebook", lorebook)} error={fieldErrors.lorebook} />

        <Field htmlFor="f-voice" label={t("form.voice")} error={fieldErrors.voiceId}>
          <select id="f-voice" className="field" value={draft.voiceId ?? ""} onChange={(e) => set("voiceId", e.target.value || null)} data-testid="voice-picker">
            <option value="">
              {t("form.voiceDefault")}
              {defaultVoice ? ` · ${voiceName(defaultVoice, t)}` : ""}
            </option>
            {voices.data?.voices.map((voice) => (
              <option key={voice.id} value={voice.id}>
                {voiceName(voice, t)}
                {voice.ownerId ? "" : ` · ${t("character.preset")}`}
              </option>
            ))}
          </select>
        </Field>

        <Field htmlFor="f-category" label={t("form.category")} hint={t("form.categoryHint")} error={fieldErrors.category}>
          <input id="f-category" className="field" value={draft.category} maxLength={CHARACTER_LIMITS.category} onChange={(e) => set("category", e.target.value)} />
          <div className="mt-2 flex flex-wrap gap-1.5" data-testid="category-suggestions">
            {facets.data?.suggestedCategories.map((category) => (
              <button
                key={category}
                type="button"
                aria-pressed={draft.category === category}
                onClick={() => set("category", draft.category === category ? "" : category)}
                className={`h-10 rounded-full border px-3.5 text-[13px] transition sm:h-8 sm:px-3 sm:text-xs ${
                  draft.category === category ? "border-brand-400/60 bg-brand-500/20 text-brand-300" : "border-white/10 bg-white/5 text-zinc-300 hover:bg-white/10"
                }`}
              >
                {categoryLabel(category, t)}
              </button>
            ))}
          </div>
        </Field>

        <Field htmlFor="f-tags" label={t("form.tags")} hint={t("form.tagsHint", { max: CHARACTER_LIMITS.tags })} error={fieldErrors.tags}>
          <div className="field flex flex-wrap items-center gap-1.5 py-0.5">
            {draft.tags.map((tag) => (
              <span key={tag} className="chip gap-1 py-1 pr-1 text-[13px]" data-testid="tag-chip">
                #{tag}
                <button
                  type="button"
                  // The visible circle is small; the invisible ::after makes a finger-sized target.
                  className="relative grid size-6 place-items-center rounded-full text-zinc-400 after:absolute after:-inset-2 hover:bg-white/10 hover:text-zinc-100"
                  aria-label={t("form.removeTag", { tag })}
                  onClick={() => set("tags", draft.tags.filter((x) => x !== tag))}
                >
                  <CloseIcon width={13} height={13} />
                </button>
              </span>
            ))}
            <input
              id="f-tags"
              className="h-10 min-w-24 flex-1 bg-transparent outline-none"
              value={tagText}
              maxLength={CHARACTER_LIMITS.tag + 1}
              onChange={(e) => setTagText(e.target.value)}
              onKeyDown={(e) => {
                if ((e.key === "Enter" || e.key === ",") && !e.nativeEvent.isComposing) {
                  e.preventDefault();
                  addTag();
                }
              }}
              onBlur={addTag}
              data-testid="field-tags"
            />
          </div>
        </Field>

        <div>
          <button
            type="button"
            className="-ml-1 inline-flex h-10 items-center gap-1 rounded-lg pr-2 text-sm font-medium text-zinc-400 hover:text-zinc-100"
            onClick={() => setAdvanced((v) => !v)}
            aria-expanded={advanced}
            aria-controls="advanced-fields"
          >
            <ChevronRightIcon width={16} height={16} className={`transition ${advanced ? "rotate-90" : ""}`} />
            {t("form.advanced")}
          </button>
          {advanced && (
            <div className="mt-2" id="advanced-fields">
              <Field htmlFor="f-system" label={t("form.systemPrompt")} hint={t("form.systemPromptHint")} error={fieldErrors.systemPrompt} count={[draft.systemPrompt.length, CHARACTER_LIMITS.systemPrompt]}>
                <textarea id="f-system" className="field font-mono text-sm" rows={4} value={draft.systemPrompt} maxLength={CHARACTER_LIMITS.systemPrompt} onChange={(e) => set("systemPrompt", e.target.value)} />
              </Field>
            </div>
          )}
        </div>

        <label className="card relative flex cursor-pointer items-center justify-between gap-4 p-4">
          <span>
            <span className="block text-sm font-semibold">{t("form.public")}</span>
            <span className="block text-xs text-zinc-500">{t("form.publicHint")}</span>
          </span>
          <input
            type="checkbox"
            role="switch"
            className="peer sr-only"
            checked={draft.visibility === "public"}
            onChange={(e) => set("visibility", e.target.checked ? "public" : "private")}
            data-testid="field-public"
          />
          <span
            aria-hidden
            className="relative h-7 w-12 shrink-0 rounded-full bg-ink-600 transition peer-checked:bg-brand-500 peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-brand-400 after:absolute after:top-1 after:left-1 after:size-5 after:rounded-full after:bg-white after:shadow after:transition peer-checked:after:translate-x-5"
          />
        </label>

        {saveError && (
          <ErrorNote testId="form-error">
            {describeError(saveError, t)}
          </ErrorNote>
        )}
        {/* On phones the buttons stay in reach at the bottom of the screen while the long form scrolls. */}
        <div className="sticky bottom-0 z-10 -mx-4 flex gap-2 border-t border-white/[0.06] bg-ink-950/90 px-4 py-3 backdrop-blur sm:-mx-6 sm:px-6 md:static md:mx-0 md:border-0 md:bg-transparent md:p-0 md:backdrop-blur-none">
          <button type="submit" className="btn-primary flex-1 md:flex-none" disabled={saving || upload.isPending} data-testid="save-character">
            {saving ? t("form.saving") : t("form.save")}
          </button>
          {discardOnCancel && characterId ? (
            <button
              type="button"
              className="btn-ghost"
              disabled={saving || discard.isPending}
              onClick={() => discard.mutate({ id: characterId })}
              data-testid="discard-copy"
            >
              {t("common.cancel")}
            </button>
          ) : (
            <Link href={characterId ? `/characters/${characterId}` : "/"} className="btn-ghost">
              {t("common.cancel")}
            </Link>
          )}
        </div>
      </div>
    </form>
  );
}

function PortraitPicker({ imageUrl, uploading, onFile }: { imageUrl: string | null; uploading: boolean; onFile: (file: File | undefined) => void }) {
  const { t } = useI18n();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  return (
    <div
      onDragOver={(e) => (e.preventDefault(), setOver(true))}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        onFile(e.dataTransfer.files[0]);
      }}
      className={`relative mx-auto aspect-[4/5] w-48 overflow-hidden rounded-2xl border-2 border-dashed md:w-full ${over ? "border-brand-400" : "border-white/15"}`}
    >
      <Image src={imageUrl ?? DEFAULT_PORTRAIT} alt={t("form.portraitAlt")} fill sizes="240px" className={`object-cover ${uploading ? "opacity-40" : ""}`} data-testid="portrait-preview" />
      <div className="absolute inset-x-0 bottom-0 flex flex-col items-center gap-1.5 bg-gradient-to-t from-black/85 via-black/50 to-transparent p-3 pt-12">
        <button type="button" className="btn-ghost min-h-10 bg-black/40 px-3.5 py-2 text-[13px] backdrop-blur" onClick={() => input.current?.click()} disabled={uploading}>
          {uploading ? t("form.uploading") : t("form.uploadImage")}
        </button>
        <p className="text-center text-[11px] text-zinc-300">{t("form.imageHint")}</p>
      </div>
      <input ref={input} type="file" accept={IMAGE_TYPES.join(",")} className="hidden" onChange={(e) => onFile(e.target.files?.[0])} data-testid="image-input" />
    </div>
  );
}

function Field({
  htmlFor,
  label,
  hint,
  error,
  count,
  children,
}: {
  htmlFor: string;
  label: string;
  hint?: string;
  error?: string[];
  count?: [number, number];
  children: ReactNode;
}) {
  const nearLimit = count && count[0] > count[1] * 0.8;
  return (
    <div>
      <div className="flex items-baseline justify-between gap-2">
        <label className="label" htmlFor={htmlFor}>
          {label}
        </label>
        {nearLimit && (
          <span className={`text-xs tabular-nums ${count[0] >= count[1] ? "text-rose-400" : "text-zinc-500"}`}>
            {count[0]}/{count[1]}
          </span>
        )}
      </div>
      {children}
      {hint && <p className="mt-1 text-xs text-zinc-500">{hint}</p>}
      <FieldError messages={error} />
    </div>
  );
}

function FieldError({ messages }: { messages?: string[] }) {
  if (!messages?.length) return null;
  return (
    <p className="mt-1 text-sm text-rose-400" role="alert">
      {messages[0]}
    </p>
  );
}
