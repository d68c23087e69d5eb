"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type MouseEvent as ReactMouseEvent } from "react";
import { describeError } from "@/lib/app-error";
import { useTRPC } from "@/lib/trpc/react";
import { ConfirmDialog } from "../confirm-dialog";
import { usePopover } from "../hooks/use-popover";
import { useI18n } from "../i18n-provider";
import { ChevronDownIcon, CopyIcon, DownloadIcon, EditIcon, TrashIcon } from "../icons";
import { downloadBase64 } from "./files";
import { ErrorNote } from "../error-note";

type CardFormat = "png" | "json" | "charx";

/** What a viewer can do with a character: start a chat, edit and delete (owner), duplicate, export. */
export function CharacterActions({
  id,
  name,
  isOwner,
  signedIn,
  hasAvatar = false,
  hasFiles = false,
}: {
  id: string;
  name: string;
  isOwner: boolean;
  signedIn: boolean;
  /** The character has a 3D avatar: the menu offers CharX, which carries it. */
  hasAvatar?: boolean;
  /** Its card brought files (expressions, backgrounds, a RisuAI module): CharX carries them too. */
  hasFiles?: boolean;
}) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onError = (e: unknown) => setError(describeError(e, t));

  const duplicate = useMutation(
    trpc.characters.duplicate.mutationOptions({ onSuccess: (copy) => router.push(`/characters/${copy.id}/edit?from=${encodeURIComponent(id)}`), onError }),
  );
  const remove = useMutation(
    trpc.characters.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.characters.pathKey() });
        router.push("/?scope=mine");
        router.refresh();
      },
      onError: (e) => {
        setConfirming(false);
        onError(e);
      },
    }),
  );
  const exportCard = async (format: CardFormat) => {
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
        <a href="#start" className="btn-primary" onClick={goToStartForm}>
          {t("character.startChat")}
        </a>
        {isOwner && (
          <Link href={`/characters/${id}/edit`} className="btn-ghost" data-testid="edit-character">
            <EditIcon /> {t("character.edit")}
          </Link>
        )}
        {signedIn && (
          <button
            type="button"
            className="btn-ghost"
            onClick={() => duplicate.mutate({ id, copySuffix: t("character.copySuffix") })}
            disabled={duplicate.isPending || duplicate.isSuccess}
            data-testid="duplicate-character"
          >
            <CopyIcon /> {t("character.duplicate")}
          </button>
        )}
        <ExportMenu withAvatar={hasAvatar} withFiles={hasFiles} onExport={(format) => void exportCard(format)} />
        {isOwner && (
          <button type="button" className="btn-ghost text-rose-300" onClick={() => setConfirming(true)} data-testid="delete-character">
            <TrashIcon /> {t("character.delete")}
          </button>
        )}
      </div>
      {error && (
        <ErrorNote className="mt-3">
          {error}
        </ErrorNote>
      )}
      {confirming && (
        <ConfirmDialog
          title={t("character.deleteTitle")}
          body={t("character.deleteBody", { name })}
          confirmLabel={t("character.delete")}
          pending={remove.isPending || remove.isSuccess}
          onConfirm={() => remove.mutate({ id })}
          onCancel={() => setConfirming(false)}
        />
      )}
    </div>
  );
}

/** Scrolls to the scene form below and puts the cursor in its first field. */
function goToStartForm(event: ReactMouseEvent<HTMLAnchorElement>) {
  const section = document.getElementById("start");
  if (!section) return;
  event.preventDefault();
  section.scrollIntoView({ behavior: "smooth", block: "start" });
  section.querySelector<HTMLElement>("textarea, a, button")?.focus({ preventScroll: true });
}

function ExportMenu({ withAvatar, withFiles, onExport }: { withAvatar: boolean; withFiles: boolean; onExport: (format: CardFormat) => void }) {
  const { t } = useI18n();
  const { open, setOpen, ref } = usePopover();

  const items: [CardFormat, string, string][] = [
    ["png", t("character.exportPng"), t("character.exportPngHint")],
    ["json", t("character.exportJson"), t("character.exportJsonHint")],
    ...(withAvatar
      ? [["charx", t("character.exportCharx"), t("character.exportCharxHint")] as [CardFormat, string, string]]
      : withFiles
        ? [["charx", t("character.exportCharxFiles"), t("character.exportCharxFilesHint")] as [CardFormat, string, string]]
        : []),
  ];
  return (
    <div className="relative" ref={ref}>
      <button type="button" className="btn-ghost" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((v) => !v)} data-testid="export-card">
        <DownloadIcon /> {t("character.export")}
        <ChevronDownIcon width={14} height={14} className={`transition ${open ? "rotate-180" : ""}`} />
      </button>
      {open && (
        // A sheet at the bottom of a phone's screen, a dropdown under the button elsewhere.
        <div
          role="menu"
          className="card fixed inset-x-3 bottom-3 z-40 bg-ink-850 p-1.5 shadow-2xl shadow-black/60 sm:absolute sm:inset-x-auto sm:top-full sm:bottom-auto sm:left-0 sm:mt-2 sm:w-64"
        >
          {items.map(([format, label, hint]) => (
            <button
              key={format}
              type="button"
              role="menuitem"
              className="block w-full rounded-xl px-3 py-2.5 text-left hover:bg-white/5 focus-visible:bg-white/5"
              onClick={() => {
                setOpen(false);
                onExport(format);
              }}
              data-testid={`export-${format}`}
            >
              <span className="block text-sm font-semibold">{label}</span>
              <span className="block text-xs text-zinc-500">{hint}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
