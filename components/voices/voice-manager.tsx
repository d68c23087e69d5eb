"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { describeError, fieldErrorsOf } from "@/lib/app-error";
import type { MessageKey } from "@/lib/i18n";
import { LANGUAGES, VOICE_LIMITS, type VoiceInput } from "@/lib/schemas";
import { useTRPC, type RouterOutputs } from "@/lib/trpc/react";
import { ConfirmDialog } from "../confirm-dialog";
import { useI18n } from "../i18n-provider";
import { voiceDescription, voiceName } from "@/lib/i18n/labels";
import { EditIcon, PlusIcon, SpeakerIcon, StopSquareIcon, TrashIcon } from "../icons";
import { useSpeech } from "../speech/use-speech";
import { ErrorNote } from "../error-note";

type Voice = RouterOutputs["voices"]["list"]["voices"][number];

const EMPTY: VoiceInput = { name: "", description: "", refAudioPath: "", promptText: "", promptLang: "ko", auxRefAudioPaths: [], params: {} };
const SPLIT_METHODS = ["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"] as const;

/** Preset voices (read-only) and the user's own GPT-SoVITS voices, with a form for their own. */
export function VoiceManager() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.voices.list.queryOptions());
  const [editing, setEditing] = useState<{ id: string | null; draft: VoiceInput } | null>(null);
  const [deleting, setDeleting] = useState<Voice | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.voices.list.queryKey() });
  const remove = useMutation(
    trpc.voices.delete.mutationOptions({
      onSuccess: () => refresh(),
      onSettled: () => setDeleting(null),
    }),
  );
  const speech = useSpeech();
  const preview = useMutation(trpc.voices.preview.mutationOptions());
  const listen = (voice: Voice): Listen => ({
    playing: speech.playing === voice.id,
    pending: preview.isPending && preview.variables?.voiceId === voice.id,
    toggle: () => {
      if (speech.playing === voice.id) return speech.stop();
      preview.mutate({ voiceId: voice.id }, { onSuccess: ({ url }) => speech.playUrls(voice.id, [url]) });
    },
  });
  const listenError = preview.error ?? speech.error?.error;
  const voices = list.data?.voices ?? [];
  const presets = voices.filter((v) => v.ownerId === null);
  const mine = voices.filter((v) => v.ownerId !== null);

  return (
    <div className="mt-6 space-y-8">
      <section>
        <div className="flex items-center justify-between gap-3">
          <h2 className="text-lg font-bold">{t("voices.mine")}</h2>
          {!editing && (
            <button type="button" className="btn-primary" onClick={() => setEditing({ id: null, draft: EMPTY })} data-testid="new-voice">
              <PlusIcon /> {t("voices.add")}
            </button>
          )}
        </div>
        {editing && (
          <VoiceForm
            key={editing.id ?? "new"}
            voiceId={editing.id}
            initial={editing.draft}
            refAudioDir={list.data?.refAudioDir}
            onDone={() => {
              setEditing(null);
              void refresh();
            }}
          />
        )}
        {listenError ? (
          <ErrorNote className="mt-3" testId="voice-listen-error">
            {describeError(listenError, t)}
          </ErrorNote>
        ) : null}
        {remove.error && (
          <ErrorNote className="mt-3">
            {describeError(remove.error, t)}
          </ErrorNote>
        )}
        <ul className="mt-4 space-y-2" data-testid="my-voices">
          {mine.length === 0 && !editing && <li className="card p-5 text-sm text-zinc-500">{t("voices.none")}</li>}
          {mine.map((voice) => (
            <VoiceRow
              key={voice.id}
              voice={voice}
              listen={listen(voice)}
              onEdit={() =>
                setEditing({
                  id: voice.id,
                  draft: {
                    name: voice.name,
                    description: voice.description,
                    refAudioPath: voice.refAudioPath,
                    promptText: voice.promptText,
                    promptLang: voice.promptLang as VoiceInput["promptLang"],
                    auxRefAudioPaths: voice.auxRefAudioPaths,
                    params: voice.params,
                  },
                })
              }
              onDelete={() => setDeleting(voice)}
            />
          ))}
        </ul>
      </section>

      <section>
        <h2 className="text-lg font-bold">{t("voices.presets")}</h2>
        <p className="mt-1 text-sm text-zinc-500">{t("voices.presetsHint")}</p>
        <ul className="mt-4 grid gap-2 sm:grid-cols-2" data-testid="preset-voices">
          {presets.map((voice) => (
            <VoiceRow key={voice.id} voice={voice} listen={listen(voice)} isDefault={voice.id === list.data?.defaultVoiceId} />
          ))}
        </ul>
      </section>

      {deleting && (
        <ConfirmDialog
          title={t("voices.deleteTitle")}
          body={t("voices.deleteBody", { name: deleting.name })}
          confirmLabel={t("voices.delete")}
          pending={remove.isPending}
          onConfirm={() => remove.mutate({ id: deleting.id })}
          onCancel={() => setDeleting(null)}
        />
      )}
    </div>
  );
}

interface Listen {
  playing: boolean;
  pending: boolean;
  toggle: () => void;
}

function VoiceRow({
  voice,
  isDefault,
  listen,
  onEdit,
  onDelete,
}: {
  voice: Voice;
  isDefault?: boolean;
  listen: Listen;
  onEdit?: () => void;
  onDelete?: () => void;
}) {
  const { t } = useI18n();
  return (
    <li className="card flex items-start gap-3 p-4" data-testid="voice-row">
      <span className="grid size-10 shrink-0 place-items-center rounded-xl bg-gradient-to-br from-brand-500/40 to-accent-500/40 text-sm font-bold">
        {voice.promptLang.replace("all_", "").toUpperCase()}
      </span>
      <div className="min-w-0 flex-1">
        <p className="flex flex-wrap items-center gap-2 font-semibold">
          {voiceName(voice, t)}
          {voice.ownerId === null && <span className="chip">{t("character.preset")}</span>}
          {isDefault && <span className="chip border-brand-400/30 text-brand-300">{t("voices.default")}</span>}
        </p>
        {voice.description && <p className="mt-0.5 text-sm text-zinc-400">{voiceDescription(voice, t)}</p>}
        <p className="mt-1 truncate font-mono text-xs text-zinc-500">{voice.refAudioPath}</p>
      </div>
      <div className="flex shrink-0 gap-1">
        <button
          type="button"
          className={`btn-ghost size-10 p-0 ${listen.playing ? "text-brand-300" : ""}`}
          onClick={listen.toggle}
          disabled={listen.pending}
          aria-pressed={listen.playing}
          aria-label={listen.playing ? t("speech.stop") : t("speech.previewLabel", { name: voiceName(voice, t) })}
          title={t("speech.preview")}
          data-testid="preview-voice"
        >
          {listen.pending ? <span className="size-4 animate-spin rounded-full border-2 border-current border-t-transparent" /> : listen.playing ? <StopSquareIcon /> : <SpeakerIcon />}
        </button>
        {onEdit && (
          <>
            <button type="button" className="btn-ghost size-10 p-0" onClick={onEdit} aria-label={t("voices.edit", { name: voiceName(voice, t) })} data-testid="edit-voice">
              <EditIcon />
            </button>
            <button type="button" className="btn-ghost size-10 p-0 text-rose-300" onClick={onDelete} aria-label={t("voices.deleteNamed", { name: voiceName(voice, t) })} data-testid="delete-voice">
              <TrashIcon />
            </button>
          </>
        )}
      </div>
    </li>
  );
}

function VoiceForm({
  voiceId,
  initial,
  refAudioDir,
  onDone,
}: {
  voiceId: string | null;
  initial: VoiceInput;
  /** Where reference audio must be on the GPT-SoVITS host (SOVITS_REF_AUDIO_DIR). */
  refAudioDir?: string;
  onDone: () => void;
}) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const [draft, setDraft] = useState<VoiceInput>(initial);
  const create = useMutation(trpc.voices.create.mutationOptions({ onSuccess: onDone }));
  const update = useMutation(trpc.voices.update.mutationOptions({ onSuccess: onDone }));
  const error = create.error ?? update.error;
  const fieldErrors = fieldErrorsOf(error, t);
  const shownInline = ["name", "refAudioPath", "promptText", "description"];
  const set = <K extends keyof VoiceInput>(key: K, value: VoiceInput[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const setParam = (key: keyof VoiceInput["params"], value: number | string | undefined) => setDraft((d) => ({ ...d, params: { ...d.params, [key]: value } }));
  const sliders = [
    ["speedFactor", "voices.speed", 0.5, 2, 0.05, 1],
    ["temperature", "voices.temperature", 0.05, 2, 0.05, 1],
    ["topP", "voices.topP", 0, 1, 0.05, 1],
    ["topK", "voices.topK", 1, 100, 1, 15],
  ] as const satisfies readonly (readonly [keyof VoiceInput["params"], MessageKey, number, number, number, number])[];

  return (
    <form
      className="card mt-4 space-y-4 p-5"
      onSubmit={(e) => {
        e.preventDefault();
        if (voiceId) update.mutate({ id: voiceId, data: draft });
        else create.mutate(draft);
      }}
      data-testid="voice-form"
    >
      <h3 className="font-bold">{voiceId ? t("voices.editTitle") : t("voices.newTitle")}</h3>
      <div className="grid gap-4 sm:grid-cols-2">
        <label className="block">
          <span className="label">{t("voices.name")}</span>
          <input className="field" required maxLength={VOICE_LIMITS.name} value={draft.name} onChange={(e) => set("name", e.target.value)} data-testid="voice-name" />
          <Err messages={fieldErrors.name} />
        </label>
        <label className="block">
          <span className="label">{t("voices.language")}</span>
          <select className="field" value={draft.promptLang} onChange={(e) => set("promptLang", e.target.value as VoiceInput["promptLang"])}>
            {LANGUAGES.map((lang) => (
              <option key={lang} value={lang}>
                {t(`voices.lang.${lang}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label className="block">
        <span className="label">{t("voices.refAudioPath")}</span>
        <input className="field font-mono text-sm" required maxLength={VOICE_LIMITS.path} placeholder={refAudioDir && `${refAudioDir}/my_voice.wav`} value={draft.refAudioPath} onChange={(e) => set("refAudioPath", e.target.value)} data-testid="voice-path" />
        <span className="mt-1 block text-xs text-zinc-500">{t("voices.refAudioHint")}</span>
        {refAudioDir && (
          <span className="mt-0.5 block text-xs text-zinc-500" data-testid="voice-path-dir">
            {t("voices.refAudioDir", { dir: refAudioDir })}
          </span>
        )}
        <Err messages={fieldErrors.refAudioPath} />
      </label>
      <label className="block">
        <span className="label">{t("voices.promptText")}</span>
        <textarea className="field" rows={2} maxLength={VOICE_LIMITS.promptText} value={draft.promptText} onChange={(e) => set("promptText", e.target.value)} data-testid="voice-transcript" />
        <span className="mt-1 block text-xs text-zinc-500">{t("voices.promptTextHint")}</span>
        <Err messages={fieldErrors.promptText} />
      </label>
      <label className="block">
        <span className="label">{t("voices.description")}</span>
        <input className="field" maxLength={VOICE_LIMITS.description} value={draft.description} onChange={(e) => set("description", e.target.value)} />
        <Err messages={fieldErrors.description} />
      </label>
      <p className="border-t border-white/[0.06] pt-4 text-sm font-semibold text-zinc-300">{t("voices.params")}</p>
      <div className="grid gap-x-6 gap-y-3 sm:grid-cols-2">
        {sliders.map(([key, label, min, max, step, fallback]) => {
          const value = Number(draft.params[key] ?? fallback);
          return (
            <label key={key} className="block">
              <span className="label flex justify-between">
                {t(label)}
                <span className="tabular-nums text-zinc-400">{value}</span>
              </span>
              <input type="range" className="h-10 w-full cursor-pointer accent-brand-500" min={min} max={max} step={step} value={value} onChange={(e) => setParam(key, Number(e.target.value))} />
            </label>
          );
        })}
        <label className="block">
          <span className="label">{t("voices.split")}</span>
          <select className="field" value={draft.params.textSplitMethod ?? "cut5"} onChange={(e) => setParam("textSplitMethod", e.target.value)}>
            {SPLIT_METHODS.map((m) => (
              <option key={m} value={m}>
                {t(`voices.split.${m}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && Object.keys(fieldErrors).every((field) => !shownInline.includes(field)) && (
        <ErrorNote>
          {describeError(error, t)}
        </ErrorNote>
      )}
      <div className="flex gap-2">
        <button type="submit" className="btn-primary" disabled={create.isPending || update.isPending} data-testid="save-voice">
          {t("form.save")}
        </button>
        <button type="button" className="btn-ghost" onClick={onDone}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

function Err({ messages }: { messages?: string[] }) {
  return messages?.length ? <span className="mt-1 block text-sm text-rose-400">{messages[0]}</span> : null;
}
