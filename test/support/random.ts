// Seeded randomness for tests: scenarios and mutations are random but the same on every run.

/** A seeded PRNG (mulberry32). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `text` with one character deleted, inserted or replaced at a random place (from `alphabet`). */
export function mutate(text: string, random: () => number, alphabet: string): string {
  const at = Math.floor(random() * text.length);
  const character = alphabet[Math.floor(random() * alphabet.length)] as string;
  const kind = Math.floor(random() * 3);
  if (kind === 0) return text.slice(0, at) + text.slice(at + 1);
  if (kind === 1) return text.slice(0, at) + character + text.slice(at);
  return text.slice(0, at) + character + text.slice(at + 1);
}
