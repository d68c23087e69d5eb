import Image from "next/image";
import type { CharacterFiles } from "@/server/characters/assets";
import { getI18n } from "@/server/i18n";
import { EmotionGrid } from "./emotion-grid";

/**
 * The files a character's card brought (RisuAI's expression sprites and backgrounds, shown; other
 * files and the module, said to be kept). Nothing when the card brought none.
 */
export async function CharacterFilesSection({ files }: { files: CharacterFiles }) {
  const { t } = await getI18n();
  const { emotions, backgrounds, others, hasModule } = files;
  if (emotions.length === 0 && backgrounds.length === 0 && others.length === 0 && !hasModule) return null;

  return (
    <section className="mt-8" data-testid="character-files">
      {emotions.length > 0 && (
        <div data-testid="emotions">
          <div className="flex items-baseline justify-between gap-3">
            <h2 className="text-sm font-semibold tracking-wide text-zinc-400 uppercase">{t("character.emotions")}</h2>
            <span className="text-[13px] text-zinc-500">{t("character.emotionsCount", { n: emotions.length })}</span>
          </div>
          <EmotionGrid emotions={emotions} />
        </div>
      )}

      {backgrounds.length > 0 && (
        <div className={emotions.length > 0 ? "mt-6" : ""} data-testid="backgrounds">
          <h2 className="text-sm font-semibold tracking-wide text-zinc-400 uppercase">{t("character.backgrounds")}</h2>
          <ul className="mt-2 grid grid-cols-2 gap-2.5 sm:grid-cols-3">
            {backgrounds.map((asset) => (
              <li key={asset.id} className="min-w-0" data-testid="background">
                <figure>
                  <div className="relative aspect-video overflow-hidden rounded-xl border border-white/[0.07] bg-ink-800">
                    <Image src={asset.url} alt={asset.name} fill sizes="(max-width: 640px) 45vw, 220px" className="object-cover" />
                  </div>
                  <figcaption className="mt-1 truncate text-[13px] text-zinc-400" title={asset.name}>
                    {asset.name}
                  </figcaption>
                </figure>
              </li>
            ))}
          </ul>
        </div>
      )}

      {(others.length > 0 || hasModule) && (
        <div className="mt-4 space-y-1 text-[13px] leading-relaxed text-zinc-500" data-testid="other-files">
          {others.length > 0 && <p>{t("character.otherFiles", { n: others.length })}</p>}
          {hasModule && <p>{t("character.cardModule")}</p>}
        </div>
      )}
    </section>
  );
}
