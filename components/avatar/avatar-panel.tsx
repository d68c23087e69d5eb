"use client";

import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { describeError } from "@/lib/app-error";
import type { MessageKey } from "@/lib/i18n";
import { useTRPC, type RouterOutputs } from "@/lib/trpc/react";
import { ConfirmDialog } from "../confirm-dialog";
import { ErrorNote } from "../error-note";
import { useI18n } from "../i18n-provider";
import { AvatarView } from "./avatar-view";

type JobView = RouterOutputs["avatars"]["get"];

const STEPS: Record<string, MessageKey> = {
  queued: "avatar.step.queued",
  waiting_for_server: "avatar.step.waiting_for_server",
  starting: "avatar.step.starting",
  uploading: "avatar.step.uploading",
  generating: "avatar.step.generating",
  texturing: "avatar.step.texturing",
  exporting: "avatar.step.exporting",
  validating: "avatar.step.validating",
};

/** Reads a file as base64 without its data: prefix. */
function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}

/**
 * The character page's avatar: the 3D model (orbit to look around) and, for its owner, the
 * actions — generate one from the portrait with live progress, upload a VRM or GLB, remove it.
 */
export function AvatarPanel({
  characterId,
  name,
  poster,
  avatarUrl,
  isOwner,
  hasPortrait,
}: {
  characterId: string;
  name: string;
  poster: string;
  avatarUrl: string | null;
  isOwner: boolean;
  /** false when the character has no portrait (imageUrl null): nothing to generate from (the server says avatar_no_portrait) */
  hasPortrait: boolean;
}) {
  const { t, locale } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const fileInput = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmingRemove, setConfirmingRemove] = useState(false);
  const [live, setLive] = useState<JobView | null>(null);
  const onError = (e: unknown) => setError(describeError(e, t));

  // A generation still running from an earlier visit is shown again.
  const jobs = useQuery(trpc.avatars.jobs.queryOptions({ characterId }, { enabled: isOwner }));
  const open = live ?? jobs.data?.find((job) => job.status === "queued" || job.status === "running") ?? null;
  const following = open && (open.status === "queued" || open.status === "running") ? open.jobId : null;
  useSubscription(
    trpc.avatars.job.subscriptionOptions(following ? { jobId: following } : skipToken, {
      onData: ({ data: job }) => {
        setLive(job);
        if (job.status === "completed") router.refresh();
        if (job.status === "failed") setError(describeError({ data: { appCode: job.error, appParams: job.errorParams } }, t));
        if (job.status !== "queued" && job.status !== "running") void queryClient.invalidateQueries({ queryKey: trpc.avatars.jobs.queryKey({ characterId }) });
      },
    }),
  );

  const generate = useMutation(
    trpc.avatars.generate.mutationOptions({
      onMutate: () => setError(null),
      onSuccess: async () => {
        setLive(null);
        await queryClient.invalidateQueries({ queryKey: trpc.avatars.jobs.queryKey({ characterId }) });
      },
      onError,
    }),
  );
  const cancel = useMutation(trpc.avatars.cancel.mutationOptions({ onSuccess: (job) => setLive(job), onError }));
  const upload = useMutation(
    trpc.avatars.upload.mutationOptions({
      onMutate: () => setError(null),
      onSuccess: () => router.refresh(),
      onError,
    }),
  );
  const remove = useMutation(
    trpc.avatars.remove.mutationOptions({
      onSuccess: () => {
        setConfirmingRemove(false);
        router.refresh();
      },
      onError: (e) => {
        setConfirmingRemove(false);
        onError(e);
      },
    }),
  );
  const pick = async (file: File | undefined) => {
    if (!file) return;
    try {
      upload.mutate({ characterId, dataBase64: await base64Of(file) });
    } catch (e) {
      onError(e);
    }
  };
  const running = following !== null;
  const progress = open && running ? Math.round(open.progress * 100) : 0;
  // The last generation's model was simplified to fit the triangle limit: say by how much.
  const last = live ?? jobs.data?.[0] ?? null;
  const reduction = !running && last?.status === "completed" ? last.reduction : null;

  if (!avatarUrl && !isOwner) return null;
  return (
    <section className="card mt-6 p-4 sm:p-5" aria-labelledby="avatar-title" data-testid="avatar-panel">
      <h2 id="avatar-title" className="text-lg font-bold">
        {t("avatar.title")}
      </h2>
      {avatarUrl ? (
        <AvatarView url={avatarUrl} poster={poster} name={name} className="mt-3 aspect-[4/3] w-full sm:aspect-video" />
      ) : (
        <p className="mt-2 text-sm text-zinc-400">{t("avatar.none")}</p>
      )}
      {running && open && (
        <div className="mt-4" data-testid="avatar-job" data-status={open.status}>
          <div className="flex items-center justify-between text-sm">
            <span role="status">{t(STEPS[open.currentStep ?? "queued"] ?? "avatar.step.generating")}</span>
            <span className="tabular-nums text-zinc-400">{progress}%</span>
          </div>
          <div className="mt-2 h-2 overflow-hidden rounded-full bg-white/10" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={progress} aria-label={t("avatar.progress")}>
            {/* Pulsing while it works: a generator without its own progress may sit near 0% a while. */}
            <div className="h-full animate-pulse rounded-full bg-gradient-to-r from-brand-500 to-accent-500 transition-[width]" style={{ width: `${Math.max(progress, 3)}%` }} />
          </div>
        </div>
      )}
      {reduction && (
        <p className="mt-3 text-sm text-zinc-400" data-testid="avatar-reduction">
          {t("avatar.reduced", { from: reduction.fromTriangles.toLocaleString(locale), to: reduction.toTriangles.toLocaleString(locale) })}
        </p>
      )}
      {isOwner && (
        <div className="mt-4 flex flex-wrap gap-2">
          {running && open ? (
            <button type="button" className="btn-ghost" onClick={() => cancel.mutate({ jobId: open.jobId })} disabled={cancel.isPending} data-testid="avatar-cancel">
              {t("avatar.cancel")}
            </button>
          ) : (
            <button
              type="button"
              className="btn-primary"
              onClick={() => generate.mutate({ characterId })}
              disabled={generate.isPending || !hasPortrait}
              aria-describedby={hasPortrait ? undefined : "avatar-needs-portrait"}
              data-testid="avatar-generate"
            >
              {t("avatar.generate")}
            </button>
          )}
          <button type="button" className="btn-ghost" onClick={() => fileInput.current?.click()} disabled={upload.isPending} data-testid="avatar-upload">
            {upload.isPending ? t("avatar.uploading") : t("avatar.upload")}
          </button>
          <input
            ref={fileInput}
            type="file"
            accept=".vrm,.glb,model/gltf-binary"
            className="sr-only"
            tabIndex={-1}
            aria-hidden
            onChange={(event) => {
              void pick(event.target.files?.[0]);
              event.target.value = "";
            }}
            data-testid="avatar-file"
          />
          {avatarUrl && (
            <button type="button" className="btn-ghost text-rose-300" onClick={() => setConfirmingRemove(true)} data-testid="avatar-remove">
              {t("avatar.remove")}
            </button>
          )}
        </div>
      )}
      {isOwner && !hasPortrait && !running && (
        <p id="avatar-needs-portrait" className="mt-2 text-xs text-zinc-400" data-testid="avatar-needs-portrait">
          {t("avatar.needsPortrait")}
        </p>
      )}
      {isOwner && <p className="mt-2 text-xs text-zinc-500">{t("avatar.uploadHint")}</p>}
      {error && <ErrorNote className="mt-3">{error}</ErrorNote>}
      {confirmingRemove && (
        <ConfirmDialog
          title={t("avatar.removeTitle")}
          body={t("avatar.removeBody")}
          confirmLabel={t("avatar.remove")}
          pending={remove.isPending}
          onConfirm={() => remove.mutate({ characterId })}
          onCancel={() => setConfirmingRemove(false)}
        />
      )}
    </section>
  );
}
