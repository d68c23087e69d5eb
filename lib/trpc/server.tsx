import "server-only";

import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import { createTRPCOptionsProxy, type TRPCQueryOptions } from "@trpc/tanstack-react-query";
import { headers } from "next/headers";
import { cache, type ReactNode } from "react";
import { appRouter, createCaller } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { makeQueryClient } from "./query-client";

const createContext = cache(async () => {
  const heads = new Headers(await headers());
  heads.set("x-trpc-source", "rsc");
  return createTRPCContext({ headers: heads });
});

/** One query client per request, shared by the prefetches of that request's components. */
export const getQueryClient = cache(makeQueryClient);

/** Query options for server components: `prefetch(trpc.x.y.queryOptions(input))`. */
export const trpc = createTRPCOptionsProxy({ ctx: createContext, router: appRouter, queryClient: getQueryClient });

/** Direct calls from server components, with the same context as HTTP calls. */
export async function serverCaller() {
  return createCaller(await createContext());
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the shape tRPC's docs give for any query
export function prefetch<T extends ReturnType<TRPCQueryOptions<any>>>(queryOptions: T): Promise<void> {
  return getQueryClient().prefetchQuery(queryOptions);
}

/**
 * Infinite queries: pass `trpc.x.y.infiniteQueryOptions(input, { getNextPageParam })`. Await it
 * when the first page must be in the HTML (non-suspense components render what is cached).
 */
export function prefetchInfinite(queryOptions: { queryKey: readonly unknown[] }): Promise<void> {
  // tRPC's option type is wider than TanStack's parameter; the shapes match at run time.
  return getQueryClient().prefetchInfiniteQuery(queryOptions as never);
}

export function HydrateClient({ children }: { children: ReactNode }) {
  return <HydrationBoundary state={dehydrate(getQueryClient())}>{children}</HydrationBoundary>;
}
