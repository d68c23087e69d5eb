"use client";

import { useMutation } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { speechChunks } from "@/lib/speech/chunks";
import { useTRPC } from "@/lib/trpc/react";

/** Something to play: audio that exists, or text still to be synthesised in a voice. */
type Item = { url: string } | { text: string; voiceId: string };

interface Playlist {
  /** What is playing (a message, a voice). */
  id: string;
  items: Item[];
  /** More items may come (realtime speech of a reply still being written). */
  open: boolean;
  wake: () => void;
}

/**
 * One player for the page: plays a list of pieces in order, each prepared while the one before
 * plays, so speech starts quickly and continues without gaps. One thing plays at a time: playing
 * something else, stopping, or leaving the page stops it.
 */
export function useSpeech() {
  const trpc = useTRPC();
  const { mutateAsync: synthesize } = useMutation(trpc.voices.synthesize.mutationOptions());
  const [playing, setPlaying] = useState<string | null>(null);
  const [error, setError] = useState<{ id: string; error: unknown } | null>(null);
  const current = useRef<Playlist | null>(null);
  const audio = useRef<HTMLAudioElement | null>(null);

  const stop = useCallback(() => {
    current.current?.wake();
    current.current = null;
    audio.current?.pause();
    audio.current = null;
    setPlaying(null);
  }, []);
  useEffect(() => stop, [stop]);

  const run = useCallback(
    async (list: Playlist) => {
      const urls = new Map<number, Promise<string>>();
      const urlOf = (i: number) => {
        const item = list.items[i];
        if (!item) return undefined;
        if (!urls.has(i)) {
          const url = "url" in item ? Promise.resolve(item.url) : synthesize({ text: item.text, voiceId: item.voiceId }).then((r) => r.url);
          url.catch(() => {}); // reported when its turn comes
          urls.set(i, url);
        }
        return urls.get(i);
      };
      const alive = () => current.current === list;
      try {
        for (let i = 0; alive(); ) {
          const next = urlOf(i);
          if (!next) {
            if (!list.open) break;
            await new Promise<void>((resolve) => (list.wake = resolve));
            continue;
          }
          const element = new Audio(await next);
          if (!alive()) return;
          audio.current = element;
          // Prepared while this one plays: the next piece's audio, and the browser's copy of it.
          void urlOf(i + 1)
            ?.then((url) => void new Audio(url).load())
            .catch(() => {});
          await new Promise<void>((resolve, reject) => {
            element.onended = () => resolve();
            // Stopped from outside: this run ends here.
            element.onpause = () => !alive() && resolve();
            element.onerror = () => reject(new Error("the audio could not be played"));
            element.play().catch(reject);
          });
          i += 1;
        }
      } catch (caught) {
        if (alive()) setError({ id: list.id, error: caught });
      } finally {
        if (alive()) {
          current.current = null;
          audio.current = null;
          setPlaying(null);
        }
      }
    },
    [synthesize],
  );

  const start = useCallback(
    (id: string, items: Item[], open: boolean) => {
      stop();
      const list: Playlist = { id, items, open, wake: () => {} };
      current.current = list;
      setPlaying(id);
      setError(null);
      void run(list);
      return list;
    },
    [run, stop],
  );

  /** Speaks `text` in `voiceId`, piece by piece. */
  const play = useCallback(
    (id: string, text: string, voiceId: string) => void start(id, speechChunks(text).map((piece) => ({ text: piece, voiceId })), false),
    [start],
  );

  /** Plays audio that already exists (a voice's sample, a reply's stored sentences), in order. */
  const playUrls = useCallback((id: string, urls: string[]) => void start(id, urls.map((url) => ({ url })), false), [start]);

  /**
   * Realtime speech: the next sentence of `id` is ready. The first one starts playback (stopping
   * anything else); the rest follow in order. `index` places it, so one seen twice plays once.
   */
  const enqueue = useCallback(
    (id: string, index: number, url: string) => {
      let list = current.current;
      if (list?.id !== id) {
        if (index !== 0) return; // joined late (after a reload): the replay button has it all
        list = start(id, [], true);
      }
      if (index < list.items.length) return;
      list.items.push({ url });
      list.wake();
    },
    [start],
  );

  /** No more sentences will come for `id`. */
  const close = useCallback((id: string) => {
    const list = current.current;
    if (list?.id !== id) return;
    list.open = false;
    list.wake();
  }, []);

  /** Realtime speech of `id` failed on the server. */
  const fail = useCallback(
    (id: string, failure: unknown) => {
      if (current.current?.id === id) close(id);
      setError({ id, error: failure });
    },
    [close],
  );

  return { play, playUrls, enqueue, close, fail, stop, playing, error };
}
