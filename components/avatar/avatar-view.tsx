"use client";

import dynamic from "next/dynamic";
import Image from "next/image";
import { useState } from "react";
import { useI18n } from "../i18n-provider";

// The 3D code (three.js, three-vrm) is its own chunk, fetched only when an avatar is on screen.
const AvatarCanvas = dynamic(() => import("./avatar-canvas"), { ssr: false });

/**
 * A character's 3D avatar, with its portrait as the poster until the model is in (and instead of
 * it, should the model fail to load or WebGL be missing).
 */
export function AvatarView({
  url,
  poster,
  name,
  orbit = true,
  className = "",
}: {
  url: string;
  poster: string;
  name: string;
  orbit?: boolean;
  className?: string;
}) {
  const { t } = useI18n();
  const [state, setState] = useState<"loading" | "ready" | "failed">("loading");
  return (
    <figure
      className={`relative overflow-hidden rounded-2xl border border-white/[0.06] bg-gradient-to-b from-ink-800 to-ink-950 ${className}`}
      aria-label={t("avatar.label", { name })}
      data-testid="avatar-view"
      data-state={state}
    >
      {state !== "ready" && (
        <Image src={poster} alt="" fill sizes="(min-width: 1024px) 320px, 100vw" className="object-cover opacity-40 blur-[1px]" priority={false} />
      )}
      {state === "loading" && (
        <p className="absolute inset-x-0 bottom-3 text-center text-xs text-zinc-300" role="status">
          {t("avatar.loading")}
        </p>
      )}
      {state === "failed" && (
        <p className="absolute inset-x-0 bottom-3 text-center text-xs text-zinc-300" role="status">
          {t("avatar.failed")}
        </p>
      )}
      {state !== "failed" && (
        <div className="absolute inset-0">
          <AvatarCanvas url={url} orbit={orbit} onReady={() => setState("ready")} onError={(error) => {
              // Kept in the console for whoever looks into it; the reader sees the portrait and a sentence.
              console.warn("[avatar] the model could not be shown", error);
              setState("failed");
            }} />
        </div>
      )}
    </figure>
  );
}
