// @ts-check
// Task functions for worker-pool.test.ts.
import { threadId } from "node:worker_threads";

/** @param {Uint8Array} bytes */
export function reverse(bytes) {
  return { bytes: bytes.slice().reverse(), threadId, length: bytes.length };
}

/** @param {number} ms */
export async function sleep(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return threadId;
}

/** Never returns: only terminating the thread stops it. */
export function spin() {
  for (;;) {
    // busy
  }
}

/** Allocates until the heap limit ends the thread. */
export function hog() {
  const kept = [];
  for (;;) kept.push(new Array(100_000).fill({ a: kept.length }));
}

/** @param {string} reason @param {number} max */
export function refuse(reason, max) {
  throw Object.assign(new Error(reason), { reason, params: { max } });
}

export function crash() {
  throw new TypeError("a bug");
}
