// The npm package as a user gets it: `npm pack` in the checkout, `npm install -g` of the tarball into
// a prefix of its own, and the installed `stedi` run from a directory far from the checkout.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "./data.js";
import { runStedi, startStedi } from "./support/cli.js";
import { brokers, freshTopic } from "./support/kafka.js";

const run = promisify(execFile);

type PackedFile = { path: string };
type Packed = { filename: string; version: string; files: PackedFile[] };

const manifest = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

// npm as a user's shell would run it: not the settings `npm test` passes to its scripts.
const npmEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^npm_config_(global|prefix|dry_run|ignore_scripts|omit|production)$/i.test(name),
  ),
);

let work: string;
let packed: Packed;
let prefix: string;
let installed: string;
/** Where the installed command runs: no checkout above it, no NODE_PATH. */
let elsewhere: string;
const runEnv = { NODE_PATH: "" };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "stedi-package-"));
  prefix = join(work, "prefix");
  elsewhere = join(work, "elsewhere");
  mkdirSync(elsewhere);
  // `npm pack` builds first (the prepack script): what a fresh checkout would ship.
  const pack = await run("npm", ["pack", "--json", "--pack-destination", work], {
    cwd: projectRoot,
    env: npmEnv,
    maxBuffer: 16 * 1024 * 1024,
  });
  [packed] = JSON.parse(pack.stdout) as [Packed];
  // From npm's cache when it holds the dependencies, from the registry otherwise.
  await run(
    "npm",
    [
      "install",
      "--global",
      "--prefix",
      prefix,
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      join(work, packed.filename),
    ],
    { cwd: elsewhere, env: npmEnv },
  );
  installed = join(prefix, "lib", "node_modules", "stedi");
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("holds the command, its compiled code and the page, and nothing of development", () => {
    const paths = packed.files.map((file) => file.path);
    expect(packed.filename).toBe(`stedi-${manifest.version}.tgz`);
    for (const needed of [
      "package.json",
      "README.md",
      "bin/stedi.js",
      "dist/main.js",
      "dist/core/graph/graph-window.js",
      "web/graph.html",
      "web/graph.js",
      "web/graph.css",
    ])
      expect(paths).toContain(needed);
    const outside = paths.filter(
      (path) => !/^(bin|dist|web)\//.test(path) && !["package.json", "README.md", "LICENSE"].includes(path),
    );
    expect(outside).toEqual([]);
    expect(paths.filter((path) => /(^|\/)(bench|test|\.bench-build|src)\//.test(path))).toEqual([]);
    expect(paths.filter((path) => /\.test\.|\.d\.ts$/.test(path))).toEqual([]);
    // The build starts from an empty dist/: every compiled module has its source in the checkout.
    const stale = paths
      .filter((path) => path.startsWith("dist/") && path.endsWith(".js"))
      .filter(
        (path) => !existsSync(join(projectRoot, "src", path.slice("dist/".length).replace(/\.js$/, ".ts"))),
      );
    expect(stale).toEqual([]);
  });

  it("installs with its dependencies and without the development ones", () => {
    const modules = join(installed, "node_modules");
    for (const name of Object.keys(manifest.dependencies))
      expect(existsSync(join(modules, name, "package.json")), name).toBe(true);
    for (const name of Object.keys(manifest.devDependencies))
      expect(existsSync(join(modules, name)), name).toBe(false);
    expect(existsSync(join(prefix, "bin", "stedi"))).toBe(true);
  });

  it("answers --version and --help", async () => {
    const stedi = join(prefix, "bin", "stedi");
    const version = await runStedi(["--version"], { executable: stedi, cwd: elsewhere, env: runEnv });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(manifest.version);
    const help = await runStedi(["--help"], { executable: stedi, cwd: elsewhere, env: runEnv });
    expect(help.code, help.stderr).toBe(0);
    for (const command of ["join", "redis-source", "simulate", "graph", "demo"])
      expect(help.stdout).toContain(command);
  });

  it("asks for --no-stack when demo would have to start the local stack, which comes with a checkout", async () => {
    const demo = await runStedi(["demo", "--brokers", "127.0.0.1:9", "--port", "0"], {
      executable: join(prefix, "bin", "stedi"),
      cwd: elsewhere,
      env: runEnv,
    });
    expect(demo.code, demo.stderr).toBe(2);
    expect(demo.stderr).toContain("--no-stack");
    expect(demo.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("serves the graph page and its chart code from the installation, and stops on SIGTERM", async () => {
    const topic = await freshTopic("package-graph");
    const graph = startStedi(
      ["graph", "--brokers", brokers.join(","), "--output-topic", topic, "--port", "0", "--no-log"],
      { executable: join(prefix, "bin", "stedi"), cwd: elsewhere, env: runEnv },
    );
    await graph.waitFor(/graph: serving http:\/\/\S+\n/);
    const url = /graph: serving (http:\/\/\S+)/.exec(graph.stderr())?.[1];
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/vendor/chart.js");
    const chart = await fetch(`${url}/vendor/chart.js`);
    expect(chart.status).toBe(200);
    expect(await chart.text()).toContain("Chart.js v4");
    for (const asset of ["/app.js", "/graph.css", "/graph-window.js"])
      expect((await fetch(`${url}${asset}`)).status, asset).toBe(200);
    graph.child.kill("SIGTERM");
    const finished = await graph.finished;
    expect(finished.code, finished.stderr).toBe(0);
  });
});
