import { NextRequest } from "next/server";
import { handlers } from "@/server/auth";
import { readLimitedBody } from "@/server/http/body-limit";

/** Sign-in and sign-out forms are a few hundred bytes. */
const BODY_LIMIT = 64 * 1024;

export const { GET } = handlers;

export async function POST(request: NextRequest) {
  const limited = await readLimitedBody(request, BODY_LIMIT);
  if (limited === "too_large") return new Response("Request too large", { status: 413 });
  return handlers.POST(limited === request ? request : new NextRequest(limited));
}
