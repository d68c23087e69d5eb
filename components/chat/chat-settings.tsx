"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { describeError } from "@/lib/app-error";
import { ttsModes, type TtsMode } from "@/lib/schemas";

/** GPT-SoVITS's streaming modes, as the chat's settings store them. */
const STREAMING_MODES = [0, 1, 2, 3] as const;
type StreamingMode = (typeof STREAMING_MODES)[number];
import { useTRPC } from "@/lib/trpc/react";
import { CloseIcon } from "../icons";
import { ChatExport, PersonaPicker } from "./chat-persona";
import { RoleplaySettings } from "./roleplay-settings";
import { useI18n } from "../i18n-provider";
import { formatDateTime } from "@/lib/i18n/time";

/** The panel's heading, which names its sheet (components/side-sheet.tsx). */
export const CHAT_SETTINGS_TITLE = "chat-settings-title";

/** The chat's model, temperature, reply length, thinking and speech, plus its numbers. */
export function ChatSettings({ sessionId, onClose }: { sessionId: string; onClose: () => void }) {
  const { t, locale, timeZone } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const session = useQuery(trpc.sessions.get.queryOptions({ id: sessionId }));
  const models = useQuery(trpc.chat.models.queryOptions(undefined, { retry: false }));
  const stats = useQuery(trpc.sessions.stats.queryOptions({ id: sessionId }));
  const current = session.data?.session;
  const [temperature, setTemperature] = useState<number | null>(null);
  const [maxTokens, setMaxTokens] = useState<number | null>(null);
  const [ttsDelayMs, setTtsDelayMs] = useState<number | null>(null);
  const update = useMutation(
    trpc.sessions.update.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.sessions.get.queryKey({ id: sessionId }) });
        router.refresh();
      },
    }),
  );
  const number = new Intl.NumberFormat(locale);
  const date = { format: (value: Date | string) => formatDateTime(value, locale, timeZone) };
  const modelNames = models.data?.models.map((m) => m.name) ?? [];
  const options = current && !modelNames.includes(current.model) ? [current.model, ...modelNames] : modelNames;

  return (
    <section
      className="min-h-0 flex-1 overflow-y-auto overscroll-contain p-4"
      data-testid="chat-settings"
    >
      <div className="flex items-center justify-between">
        <h2 id={CHAT_SETTINGS_TITLE} className="font-bold">
          {t("settings.title")}
        </h2>
        <button type="button" onClick={onClose} className="grid size-9 place-items-center rounded-lg text-zinc-400 hover:bg-white/5" aria-label={t("common.close")}>
          <CloseIcon />
        </button>
      </div>
      {current && (
        <div className="mt-4 space-y-5">
          <div>
            <label className="label" htmlFor="chat-model">
              {t("chat.model")}
            </label>
            <select
              id="chat-model"
              className="field"
              value={current.model}
              onChange={(event) => update.mutate({ id: sessionId, model: event.target.value })}
              data-testid="model-select"
            >
              {options.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            {models.error && <p className="mt-1 text-xs text-amber-300">{describeError(models.error, t)}</p>}
          </div>
          <div>
            <label className="label flex justify-between" htmlFor="chat-temperature">
              <span>{t("settings.temperature")}</span>
              <span className="tabular-nums text-zinc-400">{(temperature ?? current.settings.temperature).toFixed(2)}</span>
            </label>
            <input
              id="chat-temperature"
              type="range"
              min={0}
              max={2}
              step={0.05}
              value={temperature ?? current.settings.temperature}
              onChange={(event) => setTemperature(Number(event.target.value))}
              onPointerUp={() => temperature !== null && update.mutate({ id: sessionId, settings: { temperature } })}
              onKeyUp={() => temperature !== null && update.mutate({ id: sessionId, settings: { temperature } })}
              className="w-full accent-brand-500"
            />
            <p className="mt-1 text-xs text-zinc-500">{t("settings.temperatureHint")}</p>
          </div>
          <div>
            <label className="label" htmlFor="chat-max-tokens">
              {t("settings.maxTokens")}
            </label>
            <input
              id="chat-max-tokens"
              type="number"
              min={16}
              max={8192}
              step={16}
              value={maxTokens ?? current.settings.maxTokens}
              onChange={(event) => setMaxTokens(Number(event.target.value))}
              onBlur={() => maxTokens !== null && update.mutate({ id: sessionId, settings: { maxTokens } })}
              className="field"
              data-testid="max-tokens"
            />
          </div>
          <label className="flex cursor-pointer items-center justify-between gap-3">
            <span>
              <span className="block text-sm font-semibold">{t("settings.think")}</span>
              <span className="block text-xs text-zinc-500">{t("settings.thinkHint")}</span>
            </span>
            <input
              type="checkbox"
              role="switch"
              className="peer sr-only"
              // Chats saved before the setting existed have none: off.
              checked={current.settings.think === true}
              onChange={(event) => update.mutate({ id: sessionId, settings: { think: event.target.checked } })}
              data-testid="think-toggle"
            />
            <span
              aria-hidden
              className="relative h-7 w-12 shrink-0 rounded-full bg-ink-600 transition peer-checked:bg-brand-500 peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-brand-400 after:absolute after:top-1 after:left-1 after:size-5 after:rounded-full after:bg-white after:shadow after:transition peer-checked:after:translate-x-5"
            />
          </label>
          <div>
            <label className="label" htmlFor="chat-tts-mode">
              {t("settings.ttsMode")}
            </label>
            <select
              id="chat-tts-mode"
              className="field"
              value={current.settings.ttsMode}
              onChange={(event) => update.mutate({ id: sessionId, settings: { ttsMode: event.target.value as TtsMode } })}
              data-testid="tts-mode"
            >
              {ttsModes.map((mode) => (
                <option key={mode} value={mode}>
                  {t(`settings.tts.${mode}`)}
                </option>
              ))}
            </select>
            <p className="mt-1 text-xs text-zinc-500">{t(`settings.ttsHint.${current.settings.ttsMode}`)}</p>
          </div>
          {current.settings.ttsMode === "delayed" && (
            <div>
              <label className="label" htmlFor="chat-tts-delay">
                {t("settings.ttsDelay")}
              </label>
              <input
                id="chat-tts-delay"
                type="number"
                min={0}
                max={10}
                step={0.5}
                value={(ttsDelayMs ?? current.settings.ttsDelayMs) / 1000}
                onChange={(event) => setTtsDelayMs(Math.round(Math.min(10, Math.max(0, Number(event.target.value))) * 1000))}
                onBlur={() => ttsDelayMs !== null && update.mutate({ id: sessionId, settings: { ttsDelayMs } })}
                className="field"
                data-testid="tts-delay"
              />
            </div>
          )}
          {current.settings.ttsMode !== "off" && (
            <div>
              <label className="label" htmlFor="chat-tts-streaming">
                {t("settings.ttsStreaming")}
              </label>
              <select
                id="chat-tts-streaming"
                className="field"
                value={current.settings.sovitsStreamingMode}
                onChange={(event) =>
                  update.mutate({ id: sessionId, settings: { sovitsStreamingMode: Number(event.target.value) as StreamingMode } })
                }
                data-testid="tts-streaming"
              >
                {STREAMING_MODES.map((mode) => (
                  <option key={mode} value={mode}>
                    {t(`settings.ttsStreaming.${mode}`)}
                  </option>
                ))}
              </select>
              <p className="mt-1 text-xs text-zinc-500">{t(`settings.ttsStreamingHint.${current.settings.sovitsStreamingMode}`)}</p>
            </div>
          )}
          <PersonaPicker sessionId={sessionId} personaId={current.personaId} />
          <RoleplaySettings sessionId={sessionId} authorNote={current.authorNote} authorNoteDepth={current.authorNoteDepth} />
          {update.error && <p className="text-sm text-rose-400">{describeError(update.error, t)}</p>}
          {stats.data && (
            <dl className="grid grid-cols-2 gap-x-3 gap-y-2 rounded-xl border border-white/[0.06] p-3 text-xs" data-testid="chat-stats">
              <dt className="text-zinc-500">{t("settings.messages")}</dt>
              <dd className="text-right tabular-nums">{number.format(stats.data.messages.user + stats.data.messages.assistant)}</dd>
              <dt className="text-zinc-500">{t("settings.tokens")}</dt>
              <dd className="text-right tabular-nums">{number.format(stats.data.tokens.prompt + stats.data.tokens.completion)}</dd>
              <dt className="text-zinc-500">{t("settings.created")}</dt>
              <dd className="text-right">{date.format(stats.data.createdAt)}</dd>
              <dt className="text-zinc-500">{t("settings.lastActive")}</dt>
              <dd className="text-right">{date.format(stats.data.lastActiveAt)}</dd>
            </dl>
          )}
          <ChatExport sessionId={sessionId} />
        </div>
      )}
    </section>
  );
}
