"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, useTransition, type FormEvent } from "react";
import { describeError } from "@/lib/app-error";
import { LOCALES } from "@/lib/i18n";
import { ttsModes, type TtsMode, type UserDefaults } from "@/lib/schemas";
import { useTRPC } from "@/lib/trpc/react";
import { setLocaleAction } from "@/server/actions";
import { ErrorNote } from "../error-note";
import { useI18n } from "../i18n-provider";

const LANGUAGE_NAMES = { ko: "한국어", en: "English" } as const;

/** What new chats start with (model, creativity, reply length, speech) and the UI language, kept on the account. */
export function Defaults() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const saved = useQuery(trpc.account.defaults.queryOptions());
  const models = useQuery(trpc.chat.models.queryOptions(undefined, { retry: false }));
  const [draft, setDraft] = useState<UserDefaults | null>(null);
  const [justSaved, setJustSaved] = useState(false);
  const [, startTransition] = useTransition();
  const save = useMutation(
    trpc.account.setDefaults.mutationOptions({
      onSuccess: (next) => {
        setJustSaved(true);
        void queryClient.invalidateQueries({ queryKey: trpc.account.defaults.queryKey() });
        // The language applies here at once, and follows the account to other browsers.
        if (next.locale && next.locale !== saved.data?.locale) startTransition(() => setLocaleAction(next.locale!).then(() => router.refresh()));
      },
    }),
  );
  // Until something is changed, the form shows what is saved.
  const value = draft ?? saved.data ?? {};
  const change = (patch: Partial<UserDefaults>) => {
    setJustSaved(false);
    setDraft({ ...value, ...patch });
  };
  const modelNames = models.data?.models.map((m) => m.name) ?? [];
  const modelOptions = value.model && !modelNames.includes(value.model) ? [value.model, ...modelNames] : modelNames;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(value);
  };

  return (
    <section className="card mt-6 p-5 sm:p-6" aria-labelledby="defaults-title" data-testid="defaults">
      <h2 id="defaults-title" className="text-lg font-bold">
        {t("defaults.title")}
      </h2>
      <p className="mt-2 text-sm leading-relaxed text-zinc-400">{t("defaults.body")}</p>
      <form onSubmit={submit} className="mt-4 grid gap-4 sm:grid-cols-2">
        <label className="block">
          <span className="label">{t("defaults.model")}</span>
          <select className="field" value={value.model ?? ""} onChange={(e) => change({ model: e.target.value || undefined })} data-testid="default-model">
            <option value="">{t("defaults.appDefault")}</option>
            {modelOptions.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="block">
          <span className="label">{t("defaults.language")}</span>
          <select className="field" value={value.locale ?? ""} onChange={(e) => change({ locale: (e.target.value || undefined) as UserDefaults["locale"] })} data-testid="default-locale">
            <option value="">{t("defaults.appDefault")}</option>
            {LOCALES.map((l) => (
              <option key={l} value={l}>
                {LANGUAGE_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
        <label className="block">
          <span className="label flex justify-between">
            <span>{t("settings.temperature")}</span>
            <span className="tabular-nums text-zinc-400">{value.temperature === undefined ? t("defaults.appDefault") : value.temperature.toFixed(2)}</span>
          </span>
          <input
            type="range"
            min={0}
            max={2}
            step={0.05}
            value={value.temperature ?? 0.8}
            onChange={(e) => change({ temperature: Number(e.target.value) })}
            className="w-full accent-brand-500"
            data-testid="default-temperature"
          />
        </label>
        <label className="block">
          <span className="label">{t("settings.maxTokens")}</span>
          <input
            type="number"
            min={16}
            max={8192}
            step={16}
            className="field"
            placeholder={t("defaults.appDefault")}
            value={value.maxTokens ?? ""}
            onChange={(e) => change({ maxTokens: e.target.value === "" ? undefined : Math.round(Number(e.target.value)) })}
            data-testid="default-max-tokens"
          />
        </label>
        <label className="block sm:col-span-2">
          <span className="label">{t("settings.ttsMode")}</span>
          <select className="field" value={value.ttsMode ?? ""} onChange={(e) => change({ ttsMode: (e.target.value || undefined) as TtsMode | undefined })} data-testid="default-tts-mode">
            <option value="">{t("defaults.appDefault")}</option>
            {ttsModes.map((mode) => (
              <option key={mode} value={mode}>
                {t(`settings.tts.${mode}`)}
              </option>
            ))}
          </select>
        </label>
        <div className="flex items-center justify-end gap-3 sm:col-span-2">
          {justSaved && (
            <span role="status" className="text-sm text-emerald-300">
              {t("defaults.saved")}
            </span>
          )}
          <button type="submit" className="btn-primary" disabled={!saved.data || save.isPending} data-testid="save-defaults">
            {t("defaults.save")}
          </button>
        </div>
      </form>
      {(save.error || saved.error) && <ErrorNote className="mt-3">{describeError(save.error ?? saved.error, t)}</ErrorNote>}
    </section>
  );
}
