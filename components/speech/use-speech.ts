"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { useTRPCClient } from "@/lib/trpc/react";
import { playStream } from "./live-player";
import { routeSpeechElement } from "./speech-level";

/** One clip to play: `live` while it is still being synthesised (streamed as it comes, see live-player). */
interface Clip {
  url: string;
  live: boolean;
}

interface Playlist {
  /** What is playing (a message, a voice). */
  id: string;
  clips: Clip[];
  /** More clips may come (a reply still being spoken on the server). */
  open: boolean;
  /** Fed by the reply's own stream (realtime speech), not by a reading this hook asked for. */
  live: boolean;
  wake: () => void;
  /** Ends what feeds the list: a reading's subscription, whose unsent sentences the server drops. */
  release: () => void;
}

/** Places the clip of sentence `index` (one seen twice plays once) and has the browser load it (a live one streams when played). */
function add(list: Playlist, index: number, url: string, live = false) {
  if (index < list.clips.length) return;
  list.clips.push({ url, live });
  if (!live) new Audio(url).load();
  list.wake();
}

/** No more clips will come for `list`: what feeds it is let go (once). */
function end(list: Playlist) {
  const release = list.release;
  list.open = false;
  list.release = () => {};
  release();
  list.wake();
}

/**
 * One player for the page: plays a list of clips in order, each loaded as soon as it is known, so
 * speech continues without gaps. One thing plays at a time: playing something else, stopping, or
 * leaving the page stops it — a reading still being spoken on the server included (its sentences
 * not yet sent to the voice server are dropped there), and a delayed reading not yet begun.
 * Nothing starts once the page has gone.
 */
export function useSpeech() {
  const client = useTRPCClient();
  const [playing, setPlaying] = useState<string | null>(null);
  const [error, setError] = useState<{ id: string; error: unknown } | null>(null);
  const current = useRef<Playlist | null>(null);
  /** Silences what is playing now (an audio element, or a live stream). */
  const halt = useRef<(() => void) | null>(null);
  /** A delayed reading not yet begun: what it is for, and its timer. */
  const later = useRef<{ id: string; timer: ReturnType<typeof setTimeout> } | null>(null);
  const mounted = useRef(false);

  const stop = useCallback(() => {
    if (later.current) clearTimeout(later.current.timer);
    later.current = null;
    const list = current.current;
    current.current = null;
    if (list) end(list);
    halt.current?.();
    halt.current = null;
    setPlaying(null);
  }, []);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      stop();
    };
  }, [stop]);

  const run = useCallback(async (list: Playlist) => {
    const alive = () => current.current === list;
    try {
      for (let i = 0; alive(); ) {
        const clip = list.clips[i];
        if (clip === undefined) {
          if (!list.open) break;
          await new Promise<void>((resolve) => (list.wake = resolve));
          continue;
        }
        if (clip.live) {
          const stream = playStream(clip.url);
          halt.current = stream.stop;
          await stream.done;
        } else {
          const element = new Audio(clip.url);
          routeSpeechElement(element);
          halt.current = () => element.pause();
          await new Promise<void>((resolve, reject) => {
            element.onended = () => resolve();
            // Stopped from outside: this run ends here.
            element.onpause = () => !alive() && resolve();
            element.onerror = () => reject(new Error("the audio could not be played"));
            element.play().catch(reject);
          });
        }
        i += 1;
      }
    } catch (caught) {
      if (alive()) setError({ id: list.id, error: caught });
    } finally {
      if (alive()) {
        current.current = null;
        halt.current = null;
        setPlaying(null);
      }
    }
  }, []);

  const start = useCallback(
    (id: string, clips: Clip[], options: { open: boolean; live: boolean }) => {
      stop();
      if (!mounted.current) return null;
      const list: Playlist = { id, clips, ...options, wake: () => {}, release: () => {} };
      current.current = list;
      setPlaying(id);
      setError(null);
      void run(list);
      return list;
    },
    [run, stop],
  );

  /** Speech of `id` failed: what was heard stays heard, the rest is not coming. */
  const fail = useCallback((id: string, failure: unknown, list: Playlist | null) => {
    if (list && current.current === list) end(list);
    setError({ id, error: failure });
  }, []);

  /**
   * Reads a finished reply aloud (`chat.speak`): the server speaks it sentence by sentence in its
   * character's voice, and each clip plays as soon as it is ready.
   */
  const speakReply = useCallback(
    (messageId: string) => {
      const list = start(messageId, [], { open: true, live: false });
      if (!list) return;
      const mine = () => current.current === list;
      const reading = client.chat.speak.subscribe(
        { messageId },
        {
          onData: ({ data: event }) => {
            if (!mine()) return;
            if (event.type === "audio") add(list, event.index, event.url, event.live);
            else fail(messageId, { message: event.message, data: { appCode: event.code } }, list);
          },
          onError: (failure) => mine() && fail(messageId, failure, list),
          // The link would reconnect after a server error and speak again: a reading ends there.
          onConnectionStateChange: (state) => {
            if (mine() && state.state === "connecting" && state.error) fail(messageId, state.error, list);
          },
          onComplete: () => mine() && end(list),
        },
      );
      list.release = () => reading.unsubscribe();
    },
    [client, fail, start],
  );

  /**
   * Reads a finished reply aloud after `delayMs`, unless something is played or stopped before
   * then. Asked again for the same reply (a resumed stream gives its end twice), it goes on as it is.
   */
  const speakReplyLater = useCallback(
    (messageId: string, delayMs: number) => {
      if ((current.current?.id ?? later.current?.id) === messageId) return;
      stop();
      if (!mounted.current) return;
      const timer = setTimeout(() => {
        later.current = null;
        speakReply(messageId);
      }, delayMs);
      later.current = { id: messageId, timer };
    },
    [speakReply, stop],
  );

  /** Plays audio that already exists (a voice's sample), in order. */
  const playUrls = useCallback(
    (id: string, urls: string[]) => void start(id, urls.map((url) => ({ url, live: false })), { open: false, live: false }),
    [start],
  );

  /**
   * Realtime speech: the next sentence of `id` is ready. The first one starts playback (stopping
   * anything else); the rest follow in order. `index` places it, so one seen twice plays once.
   */
  const enqueue = useCallback(
    (id: string, index: number, url: string, live = false) => {
      let list = current.current;
      if (!list?.live || list.id !== id) {
        if (index !== 0) return; // joined late (after a reload): the read-aloud button has it all
        list = start(id, [], { open: true, live: true });
        if (!list) return;
      }
      add(list, index, url, live);
    },
    [start],
  );

  /** Realtime speech: no more sentences will come for `id`. */
  const close = useCallback((id: string) => {
    const list = current.current;
    if (list?.live && list.id === id) end(list);
  }, []);

  /** Realtime speech of `id` failed on the server. */
  const failRealtime = useCallback(
    (id: string, failure: unknown) => {
      const list = current.current;
      fail(id, failure, list?.live && list.id === id ? list : null);
    },
    [fail],
  );

  /** Stops everything but `id`'s own speech (playing, or waiting to be read): a reply being followed keeps its voice. */
  const stopAllBut = useCallback(
    (id: string) => {
      if ((current.current?.id ?? later.current?.id) !== id) stop();
    },
    [stop],
  );

  return { speakReply, speakReplyLater, playUrls, enqueue, close, fail: failRealtime, stop, stopAllBut, playing, error };
}
