// Where the harness finds the project and its own peer scripts. It runs from its source under vitest and
// from its build (.bench-build/bench/harness) under `npm run bench`, at different depths below the root,
// so the root is the nearest directory up with the package.json.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** The compiled copy-only pipe: spawned by path, so it is the build's copy.js beside this module. */
export const copyScript = fileURLToPath(new URL("./copy.js", import.meta.url));
