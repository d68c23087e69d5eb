"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { describeError } from "@/lib/app-error";
import { LIMITS } from "@/lib/schemas";
import { useTRPC, type RouterOutputs } from "@/lib/trpc/react";
import { ConfirmDialog } from "../confirm-dialog";
import { useI18n } from "../i18n-provider";
import { formatDateTime } from "@/lib/i18n/time";
import { CheckIcon, CopyIcon, PlusIcon, TrashIcon } from "../icons";
import { ErrorNote } from "../error-note";

type Token = RouterOutputs["apiTokens"]["list"][number];

/** Personal API tokens: create one (shown once), see when each was last used, revoke. */
export function ApiTokens() {
  const { t, locale, timeZone } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.apiTokens.list.queryOptions());
  const [name, setName] = useState("");
  const [fresh, setFresh] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiTokens.list.queryKey() });
  const create = useMutation(
    trpc.apiTokens.create.mutationOptions({
      onSuccess: (created) => {
        setFresh({ name: created.name, token: created.token });
        setCopied(false);
        setName("");
        void refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.apiTokens.revoke.mutationOptions({
      onSuccess: () => refresh(),
      onSettled: () => setRevoking(null),
    }),
  );
  const date = { format: (value: Date | string) => formatDateTime(value, locale, timeZone) };
  const list = tokens.data ?? [];
  const full = list.length >= LIMITS.apiTokensPerUser;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate({ name });
  };
  const copy = async () => {
    if (!fresh) return;
    await navigator.clipboard.writeText(fresh.token).catch(() => {});
    setCopied(true);
  };
  const error = create.error ?? revoke.error;

  return (
    <section className="card p-5 sm:p-6" aria-labelledby="tokens-title">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="tokens-title" className="text-lg font-bold">
          {t("tokens.title")}
        </h2>
        <span className="text-xs text-zinc-500">{t("tokens.count", { count: list.length, limit: LIMITS.apiTokensPerUser })}</span>
      </div>
      <p className="mt-2 text-sm leading-relaxed text-zinc-400">{t("tokens.body")}</p>
      <p className="mt-3 text-xs text-zinc-500">{t("tokens.usage")}</p>
      <code className="mt-1 block overflow-x-auto rounded-lg bg-black/40 px-3 py-2 font-mono text-xs text-zinc-300">Authorization: Bearer af_…</code>

      <form onSubmit={submit} className="mt-5 flex flex-col gap-2 sm:flex-row sm:items-end">
        <label className="flex-1">
          <span className="label">{t("tokens.name")}</span>
          <input
            className="field"
            value={name}
            maxLength={LIMITS.apiTokenName}
            placeholder={t("tokens.namePlaceholder")}
            onChange={(event) => setName(event.target.value)}
            data-testid="token-name"
          />
        </label>
        <button type="submit" className="btn-primary" disabled={!name.trim() || create.isPending || full} data-testid="create-token">
          <PlusIcon /> {t("tokens.create")}
        </button>
      </form>

      {error && (
        <ErrorNote className="mt-3">
          {describeError(error, t)}
        </ErrorNote>
      )}

      {fresh && (
        <div className="mt-4 rounded-xl border border-emerald-400/30 bg-emerald-400/[0.06] p-4" role="status" data-testid="new-token">
          <p className="text-sm font-semibold text-emerald-200">{t("tokens.createdTitle", { name: fresh.name })}</p>
          <p className="mt-1 text-xs text-zinc-400">{t("tokens.once")}</p>
          <div className="mt-3 flex flex-col gap-2 sm:flex-row">
            <code className="min-w-0 flex-1 rounded-lg bg-black/50 px-3 py-2 font-mono text-xs break-all text-zinc-100 select-all" data-testid="new-token-value">
              {fresh.token}
            </code>
            <div className="flex gap-2">
              <button type="button" className="btn-ghost" onClick={copy} data-testid="copy-token">
                {copied ? <CheckIcon /> : <CopyIcon />} {copied ? t("tokens.copied") : t("tokens.copy")}
              </button>
              <button type="button" className="btn-ghost" onClick={() => setFresh(null)}>
                {t("tokens.dismiss")}
              </button>
            </div>
          </div>
        </div>
      )}

      <ul className="mt-5 divide-y divide-white/[0.06]" data-testid="tokens">
        {tokens.isSuccess && list.length === 0 && <li className="py-3 text-sm text-zinc-500">{t("tokens.empty")}</li>}
        {list.map((token) => (
          <li key={token.id} className="flex items-center gap-3 py-3" data-testid="token-row">
            <div className="min-w-0 flex-1">
              <p className="truncate text-sm font-semibold">{token.name}</p>
              <p className="mt-0.5 text-xs leading-relaxed text-zinc-500">
                <span className="font-mono">{token.prefix}…</span> · {t("tokens.createdAt", { date: date.format(token.createdAt) })} ·{" "}
                {token.lastUsedAt ? t("tokens.lastUsed", { date: date.format(token.lastUsedAt) }) : t("tokens.neverUsed")}
              </p>
            </div>
            <button
              type="button"
              className="grid size-10 shrink-0 place-items-center rounded-lg text-zinc-400 hover:bg-rose-500/10 hover:text-rose-300"
              aria-label={t("tokens.revokeLabel", { name: token.name })}
              onClick={() => setRevoking(token)}
            >
              <TrashIcon />
            </button>
          </li>
        ))}
      </ul>

      {revoking && (
        <ConfirmDialog
          title={t("tokens.revokeTitle")}
          body={t("tokens.revokeBody", { name: revoking.name })}
          confirmLabel={t("tokens.revoke")}
          pending={revoke.isPending}
          onConfirm={() => revoke.mutate({ id: revoking.id })}
          onCancel={() => setRevoking(null)}
        />
      )}
    </section>
  );
}
