import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { CharacterForm } from "@/components/characters/character-form";
import { serverCaller } from "@/lib/trpc/server";
import { requireUser } from "@/server/auth";
import { getI18n } from "@/server/i18n";

export async function generateMetadata(): Promise<Metadata> {
  const { t } = await getI18n();
  return { title: t("form.editTitle") };
}

export default async function EditCharacterPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const [{ t }, user, caller] = await Promise.all([getI18n(), requireUser(`/characters/${id}/edit`), serverCaller()]);
  const character = await caller.characters.get({ id }).catch(() => null);
  // Only the owner edits; for anyone else the page does not exist.
  if (!character || character.ownerId !== user.id) notFound();
  return (
    <main className="mx-auto w-full max-w-4xl px-4 pt-6 pb-20 sm:px-6 sm:pt-10">
      <h1 className="text-2xl font-extrabold tracking-tight sm:text-3xl">{t("form.editTitle")}</h1>
      <CharacterForm
        characterId={character.id}
        initial={{
          name: character.name,
          description: character.description,
          persona: character.persona,
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
