// Locates `../shared` (design docs, fixtures, real data) beside the project root.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function sharedPath(...parts: string[]): string {
  const root = process.env.STEDI_SHARED_DIR ?? join(projectRoot, "..", "shared");
  const path = join(root, ...parts);
  if (!existsSync(path)) throw new Error(`missing shared data: ${path} (set STEDI_SHARED_DIR)`);
  return path;
}
