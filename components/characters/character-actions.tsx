"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { describeError } from "@/lib/app-error";
import { useTRPC } from "@/lib/trpc/react";
import { ConfirmDialog } from "../confirm-dialog";
import { useI18n } from "../i18n-provider";
import { CopyIcon, EditIcon, TrashIcon } from "../icons";
import { downloadBase64 } from "./files";

/** What a viewer can do with a character: edit and delete (owner), duplicate, export. */
export function CharacterActions({ id, name, isOwner, signedIn }: { id: string; name: string; isOwner: boolean; signedIn: boolean }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onError = (e: unknown) => setError(describeError(e, t));

  const duplicate = useMutation(
    trpc.characters.duplicate.mutationOptions({ onSuccess: (copy) => router.push(`/characters/${copy.id}/edit`), onError }),
  );
  const remove = useMutation(
    trpc.characters.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.characters.pathKey() });
        router.push("/?scope=mine");
        router.refresh();
      },
      onError,
    }),
  );
  const exportCard = async (format: "png" | "json") => {
    setError(null);
    try {
      const file = await queryClient.fetchQuery(trpc.characters.exportCard.queryOptions({ id, format }, { staleTime: 0 }));
      downloadBase64(file.fileName, file.contentType, file.dataBase64);
    } catch (e) {
      onError(e);
    }
  };

  return (
    <div className="mt-5">
      <div className="flex flex-wrap gap-2" data-testid="character-actions">
        <a href="#start" className="btn-primary">
          {t("character.startChat")}
        </a>
        {isOwner && (
          <Link href={`/characters/${id}/edit`} className="btn-ghost" data-testid="edit-character">
            <EditIcon /> {t("character.edit")}
          </Link>
        )}
        {signedIn && (
          <button type="button" className="btn-ghost" onClick={() => duplicate.mutate({ id, copySuffix: t("character.copySuffix") })} disabled={duplicate.isPending} data-testid="duplicate-character">
            <CopyIcon /> {t("character.duplicate")}
          </button>
        )}
        <button type="button" className="btn-ghost" onClick={() => void exportCard("png")} data-testid="export-png">
          {t("character.exportPng")}
        </button>
        <button type="button" className="btn-ghost" onClick={() => void exportCard("json")} data-testid="export-json">
          {t("character.exportJson")}
        </button>
        {isOwner && (
          <button type="button" className="btn-ghost text-rose-300" onClick={() => setConfirming(true)} data-testid="delete-character">
            <TrashIcon /> {t("character.delete")}
          </button>
        )}
      </div>
      {error && (
        <p className="mt-2 text-sm text-rose-400" role="alert">
          {error}
        </p>
      )}
      {confirming && (
        <ConfirmDialog
          title={t("character.deleteTitle")}
          body={t("character.deleteBody", { name })}
          confirmLabel={t("character.delete")}
          pending={remove.isPending}
          onConfirm={() => remove.mutate({ id })}
          onCancel={() => setConfirming(false)}
        />
      )}
    </div>
  );
}
