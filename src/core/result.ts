// Decoding never throws on bad data: it returns a value or the reason the input cannot be used.

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

export const accept = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const reject = <T = never>(reason: string): Decoded<T> => ({ ok: false, reason });
