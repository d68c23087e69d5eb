export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { bootServer } = await import("./server/boot");
    await bootServer();
    // tRPC on Node's own request path, beside Next.js (server/http/fast-trpc.ts); `next dev` keeps
    // the route handler, which reloads with the code.
    if (process.env.NODE_ENV === "production") {
      const { serveTrpcBesideNext } = await import("./server/http/fast-trpc");
      serveTrpcBesideNext();
    }
  }
}
