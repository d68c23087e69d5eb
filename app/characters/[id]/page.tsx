import type { Metadata } from "next";
import Image from "next/image";
import Link from "next/link";
import { notFound } from "next/navigation";
import { DEFAULT_PORTRAIT } from "@/components/character-card";
import { AvatarPanel } from "@/components/avatar/avatar-panel";
import { CharacterActions } from "@/components/characters/character-actions";
import { CharacterFilesSection } from "@/components/characters/character-files";
import { ImportChat } from "@/components/chat/import-chat";
import { Markdown } from "@/components/chat/markdown";
import { StartChatForm } from "@/components/start-chat-form";
import { serverCaller } from "@/lib/trpc/server";
import { auth, signInUrl } from "@/server/auth";
import { getI18n } from "@/server/i18n";
import { categoryLabel } from "@/lib/i18n/labels";
import { substitutePlaceholders } from "@/lib/placeholders";
import { getDb } from "@/server/db";
import { userNameFor } from "@/server/personas/model";

/** A persona longer than a few lines starts collapsed. */
const isLong = (text: string) => text.length > 280 || text.split("\n").length > 4;

async function loadCharacter(id: string) {
  const caller = await serverCaller();
  return caller.characters.get({ id }).catch((error: unknown) => {
    if ((error as { code?: string }).code === "NOT_FOUND" || (error as { code?: string }).code === "BAD_REQUEST") notFound();
    throw error;
  });
}

/** The files its card brought (expressions, backgrounds…); none when the character is not found (loadCharacter says so). */
async function loadFiles(id: string) {
  const caller = await serverCaller();
  return caller.characters.assets({ id }).catch(() => ({ emotions: [], backgrounds: [], others: [], hasModule: false, xMetaCount: 0 }));
}

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const character = await loadCharacter((await params).id);
  return { title: character.name, description: character.description };
}

export default async function CharacterPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const [{ t }, session, character, files] = await Promise.all([getI18n(), auth(), loadCharacter(id), loadFiles(id)]);
  const isOwner = Boolean(session?.user && character.ownerId === session.user.id);
  const examples = character.exampleDialogue
    .split(/^<START>\s*$/m)
    .map((block) => block.trim())
    .filter(Boolean)
    .slice(0, 2);
  // {{user}} is whom the viewer plays: their default persona, else their account's name ("you" for visitors).
  const viewerName = session?.user?.id ? await userNameFor(getDb(), session.user.id, "default") : null;
  const fill = (text: string) => substitutePlaceholders(text, { char: character.name, user: viewerName ?? t("viewer.you") });

  return (
    <main className="mx-auto w-full max-w-6xl px-4 pt-4 pb-20 sm:px-6 sm:pt-8">
      <Link href="/" className="-ml-1 inline-flex h-10 items-center rounded-lg px-1 text-sm text-zinc-400 hover:text-zinc-100">
        ← {t("character.back")}
      </Link>
      <div className="mt-4 grid gap-6 md:grid-cols-[minmax(0,380px)_1fr] md:gap-10">
        <div className="relative aspect-[4/5] overflow-hidden rounded-3xl border border-white/[0.07] bg-ink-800 md:sticky md:top-20 md:self-start">
          <Image src={character.imageUrl ?? DEFAULT_PORTRAIT} alt={character.name} fill priority sizes="(max-width: 768px) 100vw, 380px" className="object-cover" />
        </div>
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-2">
            {character.category && <span className="chip border-brand-400/30 bg-brand-500/15 text-brand-300">{categoryLabel(character.category, t)}</span>}
            {character.ownerId === null && <span className="chip">{t("character.preset")}</span>}
            {isOwner && (
              <span className="chip" data-testid="visibility">
                {character.visibility === "public" ? t("character.public") : t("character.private")}
              </span>
            )}
            {character.voiceName && <span className="chip">{t("character.voice", { name: character.voiceName })}</span>}
          </div>
          <h1 className="mt-3 text-3xl font-extrabold tracking-tight sm:text-4xl" data-testid="character-name">
            {character.name}
          </h1>
          <p className="mt-3 text-[15px] leading-relaxed text-zinc-300">{fill(character.description)}</p>
          <CharacterActions id={character.id} name={character.name} isOwner={isOwner} signedIn={Boolean(session?.user)} hasAvatar={Boolean(character.avatar)} hasFiles={files.emotions.length + files.backgrounds.length + files.others.length > 0 || files.hasModule} />
          {character.tags.length > 0 && (
            <div className="mt-4 flex flex-wrap gap-1.5">
              {character.tags.map((tag) => (
                <span key={tag} className="chip">
                  #{tag}
                </span>
              ))}
            </div>
          )}

          <AvatarPanel
            characterId={character.id}
            name={character.name}
            poster={character.imageUrl ?? DEFAULT_PORTRAIT}
            avatarUrl={character.avatar?.url ?? null}
            isOwner={isOwner}
            hasPortrait={Boolean(character.imageUrl)}
          />

          <CharacterFilesSection files={files} />

          {character.persona && (
            <section className="mt-8" data-testid="persona">
              <h2 className="text-sm font-semibold tracking-wide text-zinc-400 uppercase">{t("character.persona")}</h2>
              {isLong(character.persona) ? (
                <details className="card group mt-2 p-4">
                  <summary className="cursor-pointer list-none text-sm leading-relaxed text-zinc-300 [&::-webkit-details-marker]:hidden">
                    <span className="line-clamp-4 whitespace-pre-line group-open:line-clamp-none">{fill(character.persona)}</span>
                    <span className="mt-2 inline-block py-1 text-[13px] font-medium text-brand-300 group-open:hidden">{t("character.more")}</span>
                  </summary>
                </details>
              ) : (
                <p className="card mt-2 p-4 text-sm leading-relaxed whitespace-pre-line text-zinc-300">{fill(character.persona)}</p>
              )}
            </section>
          )}

          {character.creatorNotes && (
            <section className="mt-8" data-testid="creator-notes">
              <h2 className="text-sm font-semibold tracking-wide text-zinc-400 uppercase">{t("character.creatorNotes")}</h2>
              {isLong(character.creatorNotes) ? (
                <details className="card group mt-2 p-4">
                  <summary className="cursor-pointer list-none text-sm leading-relaxed text-zinc-300 [&::-webkit-details-marker]:hidden">
                    <div className="line-clamp-4 whitespace-pre-line group-open:line-clamp-none">
                      <Markdown text={fill(character.creatorNotes)} />
                    </div>
                    <span className="mt-2 inline-block py-1 text-[13px] font-medium text-brand-300 group-open:hidden">{t("character.more")}</span>
                  </summary>
                </details>
              ) : (
                <div className="card mt-2 p-4 text-sm leading-relaxed whitespace-pre-line text-zinc-300">
                  <Markdown text={fill(character.creatorNotes)} />
                </div>
              )}
            </section>
          )}

          {character.greeting && (
            <section className="mt-8">
              <h2 className="text-sm font-semibold tracking-wide text-zinc-400 uppercase">{t("character.greeting")}</h2>
              <div className="card mt-2 p-4 text-[15px] leading-relaxed whitespace-pre-line text-zinc-200">
                <Markdown text={fill(character.greeting)} />
              </div>
            </section>
          )}

          {examples.length > 0 && (
            <section className="mt-8">
              <h2 className="text-sm font-semibold tracking-wide text-zinc-400 uppercase">{t("character.sample")}</h2>
              <div className="mt-2 space-y-2">
                {examples.map((block, index) => (
                  <div key={index} className="card p-4 text-sm leading-relaxed whitespace-pre-line text-zinc-300">
                    <Markdown text={fill(block)} />
                  </div>
                ))}
              </div>
            </section>
          )}

          <section className="card mt-8 scroll-mt-24 p-5" id="start">
            <h2 className="text-lg font-bold">{t("character.scenario")}</h2>
            <p className="mt-1 text-sm text-zinc-400">{t("character.scenarioHint")}</p>
            {session?.user ? (
              <>
                <StartChatForm characterId={character.id} scenario={character.scenario} />
                <ImportChat characterId={character.id} />
              </>
            ) : (
              <Link href={signInUrl(`/characters/${character.id}`)} className="btn-primary mt-4 w-full sm:w-auto">
                {t("character.signInToChat")}
              </Link>
            )}
          </section>
        </div>
      </div>
    </main>
  );
}
