import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { CharacterForm } from "@/components/characters/character-form";
import { idSchema } from "@/lib/schemas";
import { serverCaller } from "@/lib/trpc/server";
import { requireUser } from "@/server/auth";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("form.editTitle") };
}

/** A copy made by "duplicate" within this long, and never saved since, is discarded by Cancel. */
const FRESH_COPY_MS = 60 * 60 * 1000;

function isFreshCopy(character: { createdAt: Date; updatedAt: Date }) {
  return character.updatedAt.getTime() === character.createdAt.getTime() && Date.now() - character.createdAt.getTime() < FRESH_COPY_MS;
}

export default async function EditCharacterPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ from?: string | string[] }>;
}) {
  const [{ id }, { from }] = await Promise.all([params, searchParams]);
  const [{ t }, user, caller] = await Promise.all([getI18n(), requireUser(`/characters/${id}/edit`), serverCaller()]);
  const character = await caller.characters.get({ id }).catch(() => null);
  // Only the owner edits; for anyone else the page does not exist.
  if (!character || character.ownerId !== user.id) notFound();
  const original = typeof from === "string" && idSchema.safeParse(from).success ? from : null;
  const freshCopy = original !== null && isFreshCopy(character);
  return (
    <main className="mx-auto w-full max-w-4xl px-4 pt-6 pb-20 sm:px-6 sm:pt-10">
      <h1 className="text-2xl font-extrabold tracking-tight sm:text-3xl">{t("form.editTitle")}</h1>
      <CharacterForm
        characterId={character.id}
        discardOnCancel={freshCopy ? { returnTo: `/characters/${original}` } : undefined}
        initial={{
          name: character.name,
          description: character.description,
          persona: character.persona,
          personality: character.personality,
          creatorNotes: character.creatorNotes,
          lorebook: character.lorebook,
          greeting: character.greeting,
          alternateGreetings: character.alternateGreetings,
          exampleDialogue: character.exampleDialogue,
          scenario: character.scenario,
          systemPrompt: character.systemPrompt,
          voiceId: character.voiceId,
          category: character.category,
          tags: character.tags,
          visibility: character.visibility,
          imageUrl: character.imageUrl,
        }}
      />
    </main>
  );
}
