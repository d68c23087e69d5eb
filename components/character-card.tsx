import Image from "next/image";
import Link from "next/link";
import type { Character } from "@/server/db/schema";

export const DEFAULT_PORTRAIT = "/characters/default.png";

type CardFields = Pick<Character, "id" | "name" | "description" | "category" | "tags" | "imageUrl" | "ownerId">;

/** `categoryText`: the category in the reader's language (lib/i18n/labels.ts). */
export function CharacterCard({ character, presetLabel, categoryText }: { character: CardFields; presetLabel?: string; categoryText?: string }) {
  return (
    <Link
      href={`/characters/${character.id}`}
      className="group card relative flex flex-col overflow-hidden transition hover:-translate-y-0.5 hover:border-brand-400/40 hover:shadow-xl hover:shadow-brand-900/20"
      data-testid="character-card"
      data-character-id={character.id}
    >
      <div className="relative aspect-[4/5] overflow-hidden bg-ink-800">
        <Image
          src={character.imageUrl ?? DEFAULT_PORTRAIT}
          alt={character.name}
          fill
          sizes="(max-width: 640px) 50vw, (max-width: 1024px) 33vw, 280px"
          className="object-cover transition duration-500 group-hover:scale-[1.04]"
        />
        <div className="absolute inset-x-0 bottom-0 h-2/3 bg-gradient-to-t from-ink-950 via-ink-950/60 to-transparent" />
        {character.category && (
          <span className="absolute top-3 left-3 rounded-full bg-black/50 px-2.5 py-1 text-[11px] font-medium text-white backdrop-blur">
            {categoryText ?? character.category}
          </span>
        )}
        {presetLabel && character.ownerId === null && (
          <span className="absolute top-3 right-3 rounded-full bg-brand-500/80 px-2 py-1 text-[11px] font-semibold text-white backdrop-blur">
            {presetLabel}
          </span>
        )}
        <div className="absolute inset-x-0 bottom-0 p-3.5 sm:p-4">
          <h3 className="text-base font-bold text-white sm:text-lg">{character.name}</h3>
          <p className="mt-1 line-clamp-2 text-xs leading-relaxed text-zinc-300 sm:text-[13px]">{character.description}</p>
        </div>
      </div>
      {character.tags.length > 0 && (
        <div className="flex flex-wrap gap-1.5 p-3">
          {character.tags.slice(0, 3).map((tag) => (
            <span key={tag} className="chip">
              #{tag}
            </span>
          ))}
        </div>
      )}
    </Link>
  );
}
