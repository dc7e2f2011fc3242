// Writes data to stdout; a closed pipe (`stedi … | head`) stops the command instead of crashing it.

import type { Lifecycle } from "./lifecycle.js";

export function createStdout(lifecycle: Lifecycle): { write(text: string): void } {
  let closed = false;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    closed = true;
    lifecycle.stop({ kind: "signal", signal: "EPIPE" });
  });
  return {
    write(text) {
      if (!closed) process.stdout.write(text);
    },
  };
}
