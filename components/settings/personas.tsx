"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Image from "next/image";
import { useRef, useState, type FormEvent } from "react";
import { describeError } from "@/lib/app-error";
import { CHARACTER_LIMITS, PERSONA_LIMITS } from "@/lib/schemas";
import { useTRPC, type RouterOutputs } from "@/lib/trpc/react";
import { readFileAsBase64 } from "../characters/files";
import { ConfirmDialog } from "../confirm-dialog";
import { ErrorNote } from "../error-note";
import { useI18n } from "../i18n-provider";
import { PlusIcon, TrashIcon } from "../icons";

type Persona = RouterOutputs["personas"]["list"][number];

interface Draft {
  id: string | null;
  name: string;
  description: string;
  /** the portrait shown in the form */
  imageUrl: string | null;
  /** undefined: unchanged; null: removed; an id: a new upload */
  imageId?: string | null;
}

const emptyDraft: Draft = { id: null, name: "", description: "", imageUrl: null };

function Portrait({ url, name, size = 44 }: { url: string | null; name: string; size?: number }) {
  if (url) return <Image src={url} alt="" width={size} height={size} unoptimized className="shrink-0 rounded-full object-cover" style={{ width: size, height: size }} />;
  return (
    <span aria-hidden className="grid shrink-0 place-items-center rounded-full bg-gradient-to-br from-brand-600 to-accent-500 font-bold text-white" style={{ width: size, height: size }}>
      {Array.from(name.trim())[0] ?? "?"}
    </span>
  );
}

/** The user's personas: who they play in chats (`{{user}}`), one of them the default for new chats. */
export function Personas() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const personas = useQuery(trpc.personas.list.queryOptions());
  const [draft, setDraft] = useState<Draft | null>(null);
  const [deleting, setDeleting] = useState<Persona | null>(null);
  const [imageError, setImageError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.personas.list.queryKey() });
  const done = () => {
    setDraft(null);
    void refresh();
  };
  const create = useMutation(trpc.personas.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.personas.update.mutationOptions({ onSuccess: done }));
  const setDefault = useMutation(trpc.personas.setDefault.mutationOptions({ onSuccess: () => refresh() }));
  const remove = useMutation(trpc.personas.delete.mutationOptions({ onSuccess: () => refresh(), onSettled: () => setDeleting(null) }));
  const upload = useMutation(
    trpc.characters.uploadImage.mutationOptions({
      onSuccess: ({ imageId, imageUrl }) => setDraft((d) => (d ? { ...d, imageId, imageUrl } : d)),
      onError: (error) => setImageError(describeError(error, t)),
    }),
  );
  const list = personas.data ?? [];
  const full = list.length >= PERSONA_LIMITS.perUser;
  const saving = create.isPending || update.isPending;
  const error = create.error ?? update.error ?? setDefault.error ?? remove.error;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!draft || !draft.name.trim()) return;
    const data = { name: draft.name, description: draft.description, ...(draft.imageId !== undefined ? { imageId: draft.imageId } : {}) };
    if (draft.id) update.mutate({ id: draft.id, data });
    else create.mutate(data);
  };
  const pickImage = async (file: File | undefined) => {
    setImageError(null);
    if (!file) return;
    if (file.size > CHARACTER_LIMITS.imageBytes) return setImageError(t("error.reason.image_too_large"));
    upload.mutate({ dataBase64: await readFileAsBase64(file) });
  };

  return (
    <section className="card p-5 sm:p-6" aria-labelledby="personas-title" data-testid="personas">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="personas-title" className="text-lg font-bold">
          {t("personas.title")}
        </h2>
        <span className="text-xs text-zinc-500">{t("personas.count", { count: list.length, limit: PERSONA_LIMITS.perUser })}</span>
      </div>
      <p className="mt-2 text-sm leading-relaxed text-zinc-400">{t("personas.body")}</p>

      <ul className="mt-4 divide-y divide-white/[0.06]">
        {personas.isSuccess && list.length === 0 && <li className="py-3 text-sm text-zinc-500">{t("personas.empty")}</li>}
        {list.map((persona) => (
          <li key={persona.id} className="flex items-start gap-3 py-3" data-testid="persona-row">
            <Portrait url={persona.imageUrl} name={persona.name} />
            <div className="min-w-0 flex-1">
              <p className="flex flex-wrap items-center gap-2 text-sm font-semibold">
                <span className="truncate">{persona.name}</span>
                {persona.isDefault && <span className="rounded-full bg-brand-500/15 px-2 py-0.5 text-[11px] font-medium text-brand-200">{t("personas.default")}</span>}
              </p>
              {persona.description && <p className="mt-0.5 line-clamp-2 text-xs leading-relaxed whitespace-pre-line text-zinc-500">{persona.description}</p>}
              <div className="mt-2 flex flex-wrap gap-2">
                <button
                  type="button"
                  className="btn-ghost min-h-9 px-3 py-1.5 text-xs"
                  onClick={() => setDraft({ id: persona.id, name: persona.name, description: persona.description, imageUrl: persona.imageUrl })}
                  data-testid="persona-edit"
                >
                  {t("personas.edit")}
                </button>
                {!persona.isDefault && (
                  <button type="button" className="btn-ghost min-h-9 px-3 py-1.5 text-xs" onClick={() => setDefault.mutate({ id: persona.id })} data-testid="persona-make-default">
                    {t("personas.makeDefault")}
                  </button>
                )}
                <button
                  type="button"
                  className="btn-ghost min-h-9 px-3 py-1.5 text-xs text-rose-300"
                  onClick={() => setDeleting(persona)}
                  aria-label={`${t("personas.delete")}: ${persona.name}`}
                  data-testid="persona-delete"
                >
                  <TrashIcon /> {t("personas.delete")}
                </button>
              </div>
            </div>
          </li>
        ))}
      </ul>

      {draft ? (
        <form onSubmit={submit} className="mt-4 space-y-3 rounded-xl border border-white/[0.08] bg-black/20 p-4" data-testid="persona-form">
          <div className="flex items-center gap-3">
            <Portrait url={draft.imageUrl} name={draft.name} size={56} />
            <div className="flex flex-wrap gap-2">
              <button type="button" className="btn-ghost min-h-9 px-3 py-1.5 text-xs" onClick={() => fileInput.current?.click()} disabled={upload.isPending}>
                {t("personas.choosePortrait")}
              </button>
              {draft.imageUrl && (
                <button type="button" className="btn-ghost min-h-9 px-3 py-1.5 text-xs" onClick={() => setDraft({ ...draft, imageId: null, imageUrl: null })}>
                  {t("personas.removePortrait")}
                </button>
              )}
            </div>
            <input
              ref={fileInput}
              type="file"
              accept="image/png,image/jpeg,image/webp"
              className="hidden"
              onChange={(e) => {
                void pickImage(e.target.files?.[0]);
                e.target.value = "";
              }}
              data-testid="persona-image"
            />
          </div>
          {imageError && <ErrorNote>{imageError}</ErrorNote>}
          <label className="block">
            <span className="label">{t("personas.name")}</span>
            <input
              className="field"
              value={draft.name}
              maxLength={PERSONA_LIMITS.name}
              placeholder={t("personas.namePlaceholder")}
              onChange={(e) => setDraft({ ...draft, name: e.target.value })}
              data-testid="persona-name"
              autoFocus
            />
          </label>
          <label className="block">
            <span className="label">{t("personas.description")}</span>
            <textarea
              className="field min-h-24"
              value={draft.description}
              maxLength={PERSONA_LIMITS.description}
              placeholder={t("personas.descriptionPlaceholder")}
              onChange={(e) => setDraft({ ...draft, description: e.target.value })}
              data-testid="persona-description"
            />
          </label>
          <div className="flex flex-wrap justify-end gap-2">
            <button type="button" className="btn-ghost" onClick={() => setDraft(null)}>
              {t("personas.cancel")}
            </button>
            <button type="submit" className="btn-primary" disabled={!draft.name.trim() || saving || upload.isPending} data-testid="persona-save">
              {draft.id ? t("personas.save") : t("personas.create")}
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="btn-ghost mt-4" onClick={() => setDraft(emptyDraft)} disabled={full} data-testid="persona-add">
          <PlusIcon /> {t("personas.add")}
        </button>
      )}
      {error && <ErrorNote className="mt-3">{describeError(error, t)}</ErrorNote>}
      {deleting && (
        <ConfirmDialog
          title={t("personas.deleteTitle")}
          body={t("personas.deleteBody")}
          confirmLabel={t("personas.delete")}
          pending={remove.isPending}
          onConfirm={() => remove.mutate({ id: deleting.id })}
          onCancel={() => setDeleting(null)}
        />
      )}
    </section>
  );
}
