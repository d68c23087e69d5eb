"use client";

import Image from "next/image";
import { useState } from "react";
import type { CharacterAssetSummary } from "@/server/characters/assets";
import { useI18n } from "../i18n-provider";

/** Expressions shown before "show all": whole rows at three, four and six columns. */
const FIRST = 12;

/** A character's expression sprites, named; the first rows at once, the rest on request (in the same grid). */
export function EmotionGrid({ emotions }: { emotions: CharacterAssetSummary[] }) {
  const { t } = useI18n();
  const [all, setAll] = useState(emotions.length <= FIRST);
  const shown = all ? emotions : emotions.slice(0, FIRST);
  return (
    <>
      <ul className="mt-2 grid grid-cols-3 gap-x-2.5 gap-y-3 min-[480px]:grid-cols-4 lg:grid-cols-6" id="emotion-grid">
        {shown.map((asset) => (
          <li key={asset.id} className="min-w-0" data-testid="emotion">
            <figure>
              <div className="relative aspect-square overflow-hidden rounded-2xl border border-white/[0.07] bg-ink-800">
                <Image src={asset.url} alt={asset.name} fill sizes="(max-width: 640px) 30vw, 120px" className="object-contain p-1" />
              </div>
              <figcaption className="mt-1 truncate text-center text-[13px] text-zinc-400" title={asset.name}>
                {asset.name}
              </figcaption>
            </figure>
          </li>
        ))}
      </ul>
      {!all && (
        <button type="button" className="mt-2 inline-flex h-11 items-center rounded-lg px-1 text-[13px] font-medium text-brand-300 hover:text-brand-200" aria-controls="emotion-grid" aria-expanded={false} onClick={() => setAll(true)}>
          {t("character.showAllEmotions", { n: emotions.length })}
        </button>
      )}
    </>
  );
}
