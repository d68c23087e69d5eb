const MB = 1024 * 1024;

/**
 * The largest card file that carries files of its own: a .charx (CharX card zip), a CHARX-JPEG
 * (the same zip after a JPEG) or a RisuAI PNG with `chara-ext-asset_` chunks. Real RisuAI cards
 * carry dozens of emotion sprites of up to a few MB each, backgrounds and a module; the largest
 * 3D avatar (30 MB) fits too. Its base64 fits the request limit of characters.importCard. Shared
 * by the import page and the server.
 */
export const CHARX_MAX_BYTES = 64 * MB;

/**
 * What of a card's own files is kept (server/cards/assets.ts): the assets its `data.assets`
 * names (emotion sprites, backgrounds, user icons, `x-risu-asset`s, other files), the
 * `x_meta/*.json` beside them and RisuAI's `module.risum`. A card over any of these is refused
 * with the limit named, never cut.
 */
export const CARD_ASSET_LIMITS = {
  /** assets named in one card, besides its portrait and 3D avatar */
  count: 500,
  /** one asset (an emotion sprite, a background, a sound…) */
  assetBytes: 12 * MB,
  /** every file read out of one card, inflated: assets, x_meta, module.risum, portrait and avatar */
  totalBytes: 96 * MB,
  /** x_meta/*.json files (RisuAI writes one per asset) */
  xMetaFiles: 600,
  /** one x_meta/*.json file */
  xMetaBytes: 1 * MB,
  /** module.risum (regex scripts, triggers, lorebook of a RisuAI character) */
  moduleBytes: 16 * MB,
  /** an animated image: frames × width × height */
  animatedPixels: 64 * 1024 * 1024,
} as const;
