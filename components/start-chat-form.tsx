"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { describeError } from "@/lib/app-error";
import { LIMITS, type Scenario } from "@/lib/schemas";
import { useTRPC } from "@/lib/trpc/react";
import { useI18n } from "./i18n-provider";

const FIELDS = [
  ["opponent", "character.opponent", 1],
  ["situation", "character.situation", 2],
  ["background", "character.background", 2],
] as const;

/** The scene, pre-filled from the character and editable, then a new chat. */
export function StartChatForm({ characterId, scenario }: { characterId: string; scenario: Scenario }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const router = useRouter();
  const [value, setValue] = useState<Scenario>(scenario);
  const create = useMutation(
    trpc.sessions.create.mutationOptions({
      onSuccess: (session) => router.push(`/chat/${session.id}`),
    }),
  );

  return (
    <form
      className="mt-4 space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate({ characterId, scenario: value });
      }}
    >
      {FIELDS.map(([key, label, rows]) => (
        <div key={key}>
          <label className="label" htmlFor={`scenario-${key}`}>
            {t(label)}
          </label>
          <textarea
            id={`scenario-${key}`}
            name={key}
            rows={rows}
            maxLength={LIMITS.scenarioField}
            value={value[key]}
            onChange={(event) => setValue((v) => ({ ...v, [key]: event.target.value }))}
            className="field resize-y"
          />
        </div>
      ))}
      {create.error && (
        <p className="text-sm text-rose-400" role="alert">
          {describeError(create.error, t)}
        </p>
      )}
      <button type="submit" className="btn-primary w-full sm:w-auto" disabled={create.isPending || create.isSuccess} data-testid="start-chat">
        {create.isPending || create.isSuccess ? t("character.starting") : t("character.startChat")}
      </button>
    </form>
  );
}
