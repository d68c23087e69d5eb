"use client";

import { useQuery } from "@tanstack/react-query";
import type { MessageKey } from "@/lib/i18n";
import { useTRPC } from "@/lib/trpc/react";
import { usePopover } from "./hooks/use-popover";
import { useI18n } from "./i18n-provider";

// "busy" (the TTS is synthesising and answers nothing else meanwhile) is working, not a fault.
const DOT = { ok: "bg-emerald-400", busy: "bg-sky-400", degraded: "bg-amber-400", down: "bg-rose-500" } as const;
const SERVICES = [
  ["database", "health.database"],
  ["llm", "health.llm"],
  ["tts", "health.tts"],
] as const satisfies readonly (readonly [string, MessageKey])[];

function useHealth() {
  const trpc = useTRPC();
  return useQuery(trpc.health.check.queryOptions(undefined, { refetchInterval: 30_000, staleTime: 10_000 }));
}

/**
 * A small dot in the header; opens a panel with each service's status, and for signed-in users
 * its latency and whether the default model is installed (visitors are told up or down only).
 */
export function HealthIndicator() {
  const { t } = useI18n();
  const { data } = useHealth();
  const { open, setOpen, ref } = usePopover();

  const status = data?.status;
  const label = status ? t(`health.${status}`) : t("health.title");
  return (
    <div className="relative" ref={ref}>
      <button
        type="button"
        onClick={() => setOpen((v) => !v)}
        className="flex min-h-10 min-w-10 items-center justify-center gap-2 rounded-lg px-2 text-xs text-zinc-400 hover:bg-white/5"
        aria-label={label}
        aria-expanded={open}
        data-testid="health-indicator"
        data-status={status ?? "unknown"}
      >
        <span className={`size-2.5 rounded-full ${status ? DOT[status] : "bg-zinc-600"} shadow-[0_0_8px] shadow-current`} />
        <span className="hidden md:inline">{label}</span>
      </button>
      {open && data && (
        <div className="card absolute right-0 mt-2 w-72 p-3 shadow-2xl shadow-black/50" role="dialog" data-testid="health-panel">
          <p className="mb-2 text-sm font-semibold">{t("health.title")}</p>
          <ul className="space-y-1.5">
            {SERVICES.map(([key, name]) => {
              const service = data.services[key];
              return (
                <li key={key} className="text-sm" data-testid={`health-${key}`} data-status={service.status}>
                  <span className="flex items-center gap-2">
                    <span className={`size-2 rounded-full ${DOT[service.status]}`} />
                    <span className="text-zinc-300">{t(name)}</span>
                    <span className="ml-auto text-xs text-zinc-500 tabular-nums">
                      {t(`health.status.${service.status}`)}
                      {service.latencyMs !== undefined && ` · ${service.latencyMs} ms`}
                    </span>
                  </span>
                  {service.defaultModelInstalled === false && (
                    <span className="mt-0.5 block pl-4 text-xs text-amber-300" data-testid="health-model-missing">
                      {t("health.modelMissing")}
                    </span>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </div>
  );
}

/** Says plainly when replies or voices come from the built-in fakes rather than real models. */
export function DemoBanner() {
  const { t } = useI18n();
  const { data } = useHealth();
  const fakes = SERVICES.filter(([key]) => data?.services[key].fake).map(([, name]) => t(name));
  if (fakes.length === 0) return null;
  return (
    <div className="border-b border-amber-400/20 bg-amber-400/10 px-4 py-2 text-center text-xs text-amber-200" data-testid="demo-banner">
      {t("health.fake", { services: fakes.join(", ") })}
    </div>
  );
}
