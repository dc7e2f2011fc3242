// Locates the test data kept in the repository: format fixtures and data captured from the original
// STEDI system (test/data/real-data/SOURCES.md says where each file comes from).

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The path of a file under test/data; throws when it is missing, naming it. */
export function dataPath(...parts: string[]): string {
  const path = join(projectRoot, "test", "data", ...parts);
  if (!existsSync(path)) throw new Error(`missing test data: ${path}`);
  return path;
}
