/**
 * The largest .charx (CharX card zip) an import takes: the largest 3D avatar (30 MB, see
 * AVATAR_UPLOAD_MAX_BYTES) with room for the card and the portrait; its base64 fits the 42 MB
 * request limit of characters.importCard. Shared by the import page and the server.
 */
export const CHARX_MAX_BYTES = 31 * 1024 * 1024;
