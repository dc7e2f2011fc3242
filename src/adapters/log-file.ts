// Console logs under logs/, appended like the seed's `tee` into spark/logs/*.log.

import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { configError, describeCause } from "../errors.js";

export type LogFile = { path: string; write(text: string): void; close(): Promise<void> };

/** Opens `directory/name` for appending; with no directory, a log that keeps nothing. */
export function openLogFile(directory: string | null, name: string): LogFile {
  if (directory === null) return { path: "(no log)", write: () => undefined, close: async () => undefined };
  const path = join(directory, name);
  let stream: WriteStream;
  try {
    mkdirSync(directory, { recursive: true });
    stream = createWriteStream(path, { flags: "a" });
  } catch (error) {
    throw configError(
      `cannot write the log ${path}: ${describeCause(error)}`,
      "choose another folder with --log-dir",
    );
  }
  let failure: Error | undefined;
  stream.on("error", (error) => {
    failure = error;
  });
  return {
    path,
    write(text) {
      if (!failure) stream.write(text);
    },
    close: () =>
      new Promise((resolve) => {
        stream.end(() => resolve());
      }),
  };
}
