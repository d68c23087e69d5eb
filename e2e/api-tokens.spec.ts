import { createTRPCClient, httpBatchStreamLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "@/server/api/root";
import { headerSettled } from "./pages/characters";
import { expect, keepScreenshot, test } from "./support/test";

/** The Developer API as a script uses it: the typed client, a personal token, nothing else. */
function scriptClient(baseURL: string, token: string) {
  return createTRPCClient<AppRouter>({
    links: [httpBatchStreamLink({ url: `${baseURL}/api/trpc`, transformer: superjson, headers: { authorization: `Bearer ${token}` } })],
  });
}

test("a personal API token lets a script chat through the typed client until it is revoked", async ({ page, baseURL }) => {
  await page.goto("/");
  await page.getByTestId("user-avatar").click();
  await page.getByTestId("nav-settings").click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole("heading", { name: "개발자 API" })).toBeVisible();

  await page.getByTestId("token-name").fill("백업 스크립트");
  await page.getByTestId("create-token").click();
  const shown = page.getByTestId("new-token");
  await expect(shown).toContainText("\"백업 스크립트\" 토큰을 만들었어요");
  await expect(shown).toContainText("이번 한 번만 보이고");
  const token = (await page.getByTestId("new-token-value").innerText()).trim();
  expect(token).toMatch(/^af_[A-Za-z0-9_-]{43}$/);
  const row = page.getByTestId("token-row").filter({ hasText: "백업 스크립트" });
  await expect(row).toContainText(token.slice(0, 10));
  await expect(row).toContainText("사용한 적 없음");
  await headerSettled(page);
  await keepScreenshot(page, "settings-desktop");

  // The script: a chat, a message, the reply streamed in the same response.
  const api = scriptClient(baseURL!, token);
  const chat = await api.sessions.create.mutate({ characterId: "preset-aria" });
  const { userMessage, events } = await api.chat.send.mutate({ sessionId: chat.id, clientId: crypto.randomUUID(), text: "스크립트에서 인사해요" });
  expect(userMessage.content).toBe("스크립트에서 인사해요");
  let text = "";
  let final: string | null = null;
  for await (const { event } of events) {
    if (event.type === "delta") text += event.text;
    if (event.type === "done" || event.type === "error") final = event.status;
  }
  expect(final).toBe("complete");
  expect(text).toContain("스크립트에서 인사해요");
  // The chat is the token owner's: it is in their list in the app.
  expect((await api.sessions.list.query({ limit: 10 })).items.map((s) => s.id)).toContain(chat.id);
  await page.goto("/chat");
  await expect(page.locator(`[data-testid="chat-row"][data-session-id="${chat.id}"]`).first()).toBeVisible();

  // A token can't mint more tokens.
  await expect(api.apiTokens.create.mutate({ name: "더" })).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });

  await page.goto("/settings");
  await expect(row).toContainText("마지막 사용");
  await page.setViewportSize({ width: 390, height: 844 });
  await headerSettled(page);
  await keepScreenshot(page, "settings-mobile");
  await row.getByRole("button", { name: "백업 스크립트 폐기" }).click();
  await page.getByRole("alertdialog").getByTestId("confirm").click();
  await expect(row).toHaveCount(0);

  const refused = await api.sessions.list.query({ limit: 10 }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(TRPCClientError);
  expect(refused).toMatchObject({ data: { code: "UNAUTHORIZED", httpStatus: 401 } });
});

test("a wrong token is refused with 401, not served as a visitor", async ({ request }) => {
  const response = await request.get("/api/trpc/characters.presets", { headers: { authorization: `Bearer af_${"x".repeat(43)}` } });
  expect(response.status()).toBe(401);
  expect(await response.text()).toContain("API token");
});
