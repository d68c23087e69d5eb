import { readFile } from "node:fs/promises";
import { expect, type Locator, type Page } from "@playwright/test";
import { ChatRoomPage } from "./chat-room";

type Scope = "all" | "presets" | "mine" | "public";

/** The home page's gallery: scope tabs, search, facet chips and the character grid. */
export class GalleryPage {
  readonly root: Locator;
  readonly grid: Locator;
  readonly cards: Locator;
  readonly search: Locator;
  readonly facets: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId("gallery");
    this.grid = page.getByTestId("character-grid");
    this.cards = this.grid.getByTestId("character-card");
    this.search = page.getByTestId("gallery-search");
    this.facets = page.getByTestId("facets");
  }

  async open(scope: Scope = "all") {
    await this.page.goto(scope === "all" ? "/" : `/?scope=${scope}`);
    await this.settled();
  }

  /** The grid shows the results of the current filters (nothing is loading). */
  async settled() {
    await expect(this.root).toHaveAttribute("data-state", "ready");
  }

  card(name: string) {
    return this.cards.filter({ hasText: name });
  }

  async searchFor(text: string) {
    await this.search.fill(text);
    await expect(this.page).toHaveURL(new RegExp(`q=${encodeURIComponent(text).replace(/%20/g, "(\\+|%20)")}`));
    await this.settled();
  }

  async pickFacet(label: string) {
    await this.facets.getByRole("button", { name: label, exact: true }).click();
    await this.settled();
  }
}

export interface CharacterFields {
  name?: string;
  description?: string;
  persona?: string;
  greeting?: string;
  category?: string;
  tags?: string[];
}

/** /characters/new and /characters/[id]/edit. */
export class CharacterFormPage {
  readonly form: Locator;
  readonly name: Locator;
  readonly portrait: Locator;
  readonly voicePicker: Locator;

  constructor(readonly page: Page) {
    this.form = page.getByTestId("character-form");
    this.name = page.getByTestId("field-name");
    this.portrait = page.getByTestId("portrait-preview");
    this.voicePicker = page.getByTestId("voice-picker");
  }

  async openNew() {
    await this.page.goto("/characters/new");
    await expect(this.form).toBeVisible();
  }

  async uploadPortrait(png: Buffer) {
    await this.page.getByTestId("image-input").setInputFiles({ name: "portrait.png", mimeType: "image/png", buffer: png });
    await expect(this.portrait).toHaveAttribute("src", /api%2Fimages|\/api\/images\//);
  }

  async fill(fields: CharacterFields) {
    if (fields.name !== undefined) await this.name.fill(fields.name);
    if (fields.description !== undefined) await this.page.getByLabel("짧은 소개").fill(fields.description);
    if (fields.persona !== undefined) await this.page.getByTestId("field-persona").fill(fields.persona);
    if (fields.greeting !== undefined) await this.page.getByTestId("field-greeting").fill(fields.greeting);
    if (fields.category !== undefined) await this.page.getByLabel("카테고리").fill(fields.category);
    for (const tag of fields.tags ?? []) {
      await this.page.getByTestId("field-tags").fill(tag);
      await this.page.getByTestId("field-tags").press("Enter");
    }
  }

  async save() {
    await this.page.getByTestId("save-character").click();
    const character = new CharacterDetailPage(this.page);
    await expect(character.name).toBeVisible();
    return character;
  }
}

/** /characters/[id]: the profile, its actions and the scene form. */
export class CharacterDetailPage {
  readonly name: Locator;

  constructor(readonly page: Page) {
    this.name = page.getByTestId("character-name");
  }

  async open(idOrUrl: string) {
    await this.page.goto(idOrUrl.startsWith("http") ? idOrUrl : `/characters/${idOrUrl}`);
  }

  async edit() {
    await this.page.getByTestId("edit-character").click();
    const form = new CharacterFormPage(this.page);
    await expect(form.form).toBeVisible();
    return form;
  }

  /** Exports the card through the browser's download; returns its file name and bytes. */
  async exportCard(format: "png" | "json" | "charx") {
    await this.page.getByTestId("export-card").click();
    const downloading = this.page.waitForEvent("download");
    await this.page.getByTestId(`export-${format}`).click();
    const download = await downloading;
    return { fileName: download.suggestedFilename(), bytes: await readFile((await download.path())!) };
  }

  async startChat() {
    await this.page.getByTestId("start-chat").click();
    await this.page.waitForURL(/\/chat\/[\w-]+$/);
    return new ChatRoomPage(this.page);
  }

  deleteButton() {
    return this.page.getByTestId("delete-character");
  }

  async delete() {
    await this.deleteButton().click();
    await this.page.getByRole("alertdialog").getByTestId("confirm").click();
    await this.page.waitForURL(/\/\?scope=mine$/);
  }
}

/** /characters/import */
export class ImportPage {
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.error = page.getByTestId("import-error");
  }

  async open() {
    await this.page.goto("/characters/import");
    await expect(this.page.getByTestId("import-drop")).toBeVisible();
  }

  async importFile(name: string, mimeType: string, buffer: Buffer) {
    await this.page.getByTestId("import-input").setInputFiles({ name, mimeType, buffer });
  }
}

/** The page never scrolls sideways (phones). */
export async function expectNoHorizontalScroll(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, "horizontal overflow in px").toBeLessThanOrEqual(0);
}

/** The header's status check has answered, so screenshots show the page as a person sees it. */
export async function headerSettled(page: Page) {
  await expect(page.getByTestId("health-indicator")).not.toHaveAttribute("data-status", "unknown");
}
