// kafkajs's own modules as it ships them, for tests that hold stedi's replacements to them: a private
// copy compiled from the file, since the cached module is replaced or wrapped by kafkajs-patches.ts.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";

const require = createRequire(import.meta.url);

type CompilableModule = {
  new (
    id: string,
  ): { filename: string; paths: string[]; exports: unknown; _compile(code: string, file: string): void };
  _nodeModulePaths(from: string): string[];
};

/** A fresh copy of the kafkajs module `specifier` (e.g. "kafkajs/src/consumer/batch.js"). */
export function kafkajsOriginal<T>(specifier: string): T {
  const path = require.resolve(specifier);
  const { Module } = require("node:module") as { Module: CompilableModule };
  const module = new Module(path);
  module.filename = path;
  module.paths = Module._nodeModulePaths(dirname(path));
  module._compile(readFileSync(path, "utf8"), path);
  return module.exports as T;
}
