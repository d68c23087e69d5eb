"use client";

import { useMutation } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { splitSentences } from "@/lib/speech/sentences";
import { useTRPC } from "@/lib/trpc/react";

/** Text per synthesis: short enough that the first audio comes quickly, long enough to sound natural. */
const CHUNK_CHARS = 300;

/** Sentences grouped into pieces of at most CHUNK_CHARS (a longer sentence stays whole). */
export function speechChunks(text: string): string[] {
  const chunks: string[] = [];
  for (const sentence of splitSentences(text)) {
    const last = chunks.at(-1);
    if (last !== undefined && last.length + 1 + sentence.length <= CHUNK_CHARS) chunks[chunks.length - 1] = `${last} ${sentence}`;
    else chunks.push(sentence);
  }
  return chunks;
}

/**
 * Plays text in a voice, one piece at a time: the next piece is synthesised while the current
 * one plays, so long texts start quickly and play without waiting in between. One thing plays at
 * a time; starting another, stopping, or leaving the page stops it.
 */
export function useSpeech() {
  const trpc = useTRPC();
  const synthesize = useMutation(trpc.voices.synthesize.mutationOptions());
  const { mutateAsync } = synthesize;
  const [playing, setPlaying] = useState<string | null>(null);
  const [error, setError] = useState<{ id: string; error: unknown } | null>(null);
  const run = useRef(0);
  const audio = useRef<HTMLAudioElement | null>(null);

  const stop = useCallback(() => {
    run.current += 1;
    audio.current?.pause();
    audio.current = null;
    setPlaying(null);
  }, []);
  useEffect(() => stop, [stop]);

  /** Speaks `text` in `voiceId`; `id` names what is playing (a message, a voice). */
  const play = useCallback(
    async (id: string, text: string, voiceId: string, preset?: { url: string }) => {
      stop();
      const mine = run.current;
      setPlaying(id);
      setError(null);
      const pieces = preset ? [] : speechChunks(text);
      const urlFor = (piece: string) => mutateAsync({ text: piece, voiceId }).then((r) => r.url);
      try {
        let next: Promise<string> | undefined = preset ? Promise.resolve(preset.url) : pieces[0] ? urlFor(pieces[0]) : undefined;
        for (let i = 0; next; i += 1) {
          const url = await next;
          if (run.current !== mine) return;
          next = pieces[i + 1] ? urlFor(pieces[i + 1]!) : undefined;
          const element = new Audio(url);
          audio.current = element;
          element.dataset.testid = "speech-audio";
          await new Promise<void>((resolve, reject) => {
            element.onended = () => resolve();
            element.onerror = () => reject(new Error("the audio could not be played"));
            element.play().catch(reject);
          });
          if (run.current !== mine) return;
        }
      } catch (caught) {
        if (run.current === mine) setError({ id, error: caught });
      } finally {
        if (run.current === mine) {
          audio.current = null;
          setPlaying(null);
        }
      }
    },
    [mutateAsync, stop],
  );

  return { play, stop, playing, error };
}
