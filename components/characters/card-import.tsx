"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { describeError } from "@/lib/app-error";
import { CHARACTER_LIMITS } from "@/lib/schemas";
import { CHARX_MAX_BYTES } from "@/lib/charx-limits";
import { useTRPC } from "@/lib/trpc/react";
import { useI18n } from "../i18n-provider";
import { UploadIcon } from "../icons";
import { readFileAsBase64 } from "./files";
import { ErrorNote } from "../error-note";

/** Drop or pick a Character Card (PNG or JSON, V1/V2/V3, or a CharX / CharX JPEG with its files and 3D avatar); it becomes a new private character. */
export function CardImport() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const importCard = useMutation(
    trpc.characters.importCard.mutationOptions({
      onSuccess: (character) => router.push(`/characters/${character.id}`),
      onError: (e) => setError(describeError(e, t)),
    }),
  );

  const take = async (file: File | undefined) => {
    setError(null);
    if (!file) return;
    // A .json card is its text alone; a PNG, a .charx or a CharX JPEG may carry files of its own.
    const json = file.name.toLowerCase().endsWith(".json");
    const max = json ? CHARACTER_LIMITS.cardBytes : CHARX_MAX_BYTES;
    if (file.size > max) return setError(t("error.reason.card_too_large", { mb: max / 1024 / 1024 }));
    importCard.mutate({ dataBase64: await readFileAsBase64(file) });
  };

  return (
    <div>
      <div
        role="button"
        tabIndex={0}
        onClick={() => input.current?.click()}
        onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && input.current?.click()}
        onDragOver={(e) => (e.preventDefault(), setOver(true))}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void take(e.dataTransfer.files[0]);
        }}
        aria-busy={importCard.isPending}
        className={`flex cursor-pointer flex-col items-center justify-center gap-3 rounded-3xl border-2 border-dashed px-6 py-12 text-center transition sm:py-16 ${
          over ? "border-brand-400 bg-brand-500/10" : "border-white/15 bg-ink-900 hover:border-white/30"
        } ${importCard.isPending ? "pointer-events-none opacity-70" : ""}`}
        data-testid="import-drop"
      >
        <span className={`grid size-14 place-items-center rounded-2xl bg-gradient-to-br from-brand-500 to-accent-500 text-white shadow-lg shadow-brand-900/40 ${importCard.isPending ? "animate-pulse" : ""}`}>
          <UploadIcon width={26} height={26} />
        </span>
        <p className="text-lg font-semibold text-balance">{importCard.isPending ? t("import.working") : t("import.drop")}</p>
        <p className="max-w-md text-sm text-zinc-400">{t("import.formats", { mb: CHARX_MAX_BYTES / 1024 / 1024 })}</p>
        <span className="btn-ghost mt-1">{t("import.pick")}</span>
      </div>
      <input ref={input} type="file" accept=".png,.json,.charx,.jpg,.jpeg,image/png,image/jpeg,application/json" className="hidden" onChange={(e) => void take(e.target.files?.[0])} data-testid="import-input" />
      {error && (
        <ErrorNote className="mt-4" testId="import-error">
          {error}
        </ErrorNote>
      )}
    </div>
  );
}
