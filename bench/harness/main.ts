// npm run bench: measures the built `stedi join` against the local broker — saturation throughput and
// the copy-only pipe limit, open-loop end-to-end latency, memory with 100k and 1M customers, time to
// first output — and reports a table on stdout, JSON and an HTML report with charts under bench/results/.
// Starts the local Kafka when it is not running and stops it again at the end.
// The only module of the bench that exits the process or handles signals.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { type BenchBroker, createBenchBroker } from "./broker.js";
import { type BenchContext, createCustomerTopics } from "./context.js";
import { readChartJs, renderHtmlReport } from "./html-report.js";
import { runLatency } from "./latency.js";
import { type BenchOptions, benchHelp, parseBenchArgs } from "./options.js";
import { projectRoot } from "./paths.js";
import { liveChildren, refuseNewChildren, signalAll } from "./processes.js";
import { chartInput, renderReport } from "./report.js";
import { type BenchResult, evaluateTargets } from "./results.js";
import { runRestart } from "./restart.js";
import { runRss } from "./rss.js";
import { runSaturation } from "./saturation.js";
import { runSoak, type SoakOptions } from "./soak.js";
import { renderSoakReport, soakPassed } from "./soak-report.js";
import { type BenchStack, startStack } from "./stack.js";
import { customerRecordKey } from "./workload.js";

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

let broker: BenchBroker | undefined;
let stack: BenchStack | undefined;
let leaving = false;

/**
 * Stops every child (SIGTERM, then SIGKILL after 5 s), deletes what the bench created, then stops the
 * stack services this run started.
 */
async function cleanUp(): Promise<void> {
  refuseNewChildren();
  signalAll("SIGTERM");
  for (let waited = 0; liveChildren() > 0 && waited < 5000; waited += 100) {
    await new Promise((done) => setTimeout(done, 100));
  }
  signalAll("SIGKILL");
  if (broker) {
    const current = broker;
    broker = undefined;
    await Promise.race([current.cleanUp(), new Promise((done) => setTimeout(done, 20_000))]);
    await current.disconnect();
  }
  await stack?.stop();
}

/** Cleans up and exits; a second call (the main flow failing after a signal) waits for the first. */
async function leave(code: number, why?: string): Promise<void> {
  if (leaving) return new Promise<void>(() => undefined);
  leaving = true;
  if (why) log(why);
  await cleanUp().catch((error: unknown) => log(`cleaning up: ${describe(error)}`));
  process.exit(code);
}

function onSignal(signal: NodeJS.Signals) {
  if (leaving) {
    signalAll("SIGKILL");
    stack?.stopDetached();
    process.exit(130);
  }
  const stopping =
    stack && stack.started.length > 0 ? `, then stopping the ${stack.started.join(" and ")} it started` : "";
  void leave(
    130,
    `${signal}: stopping the children and deleting the bench's topics${stopping} (again to force)`,
  );
}

/** The commit the join was built from, "+dirty" when the work tree differs from it; undefined outside git. */
function sourceVersion(): string | undefined {
  try {
    const git = (...args: string[]) =>
      execFileSync("git", args, {
        cwd: projectRoot,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    const commit = git("rev-parse", "--short", "HEAD");
    return git("status", "--porcelain", "--untracked-files=no", "--", "src") === ""
      ? commit
      : `${commit}+dirty`;
  } catch {
    return undefined;
  }
}

const failures = (errors: string[]) => errors.map((error) => `failed: ${error}\n`).join("");

/** The HTML report of a result: its charts, verdicts, and the tables printed on stdout. */
const htmlReport = (result: BenchResult, errors: string[]) =>
  renderHtmlReport(chartInput(result), renderReport(result) + failures(errors), readChartJs());

/** The options as recorded in the JSON, without what depends on the machine. */
const recordedOptions = (options: BenchOptions): Record<string, unknown> => {
  const { brokers: _brokers, outDir: _outDir, keepStack: _keepStack, ...rest } = options;
  return rest;
};

async function main() {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`bench: ${describe(error)}\n\n${benchHelp}`);
    process.exit(2);
  }
  if (parsed.kind === "help") {
    process.stdout.write(benchHelp);
    return;
  }
  if (parsed.kind === "chart") {
    const result = JSON.parse(readFileSync(parsed.file, "utf8")) as BenchResult & { errors?: string[] };
    const html = `${parsed.file.replace(/\.json$/, "")}.html`;
    writeFileSync(html, htmlReport(result, result.errors ?? []));
    log(`report: ${html}`);
    return;
  }
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", () => signalAll("SIGKILL"));
  if (parsed.kind === "soak") {
    await soak(parsed.options);
    return;
  }
  const options = parsed.options;

  // The bench needs only the broker. What is started is recorded before it starts, for leave().
  startStack({
    projectRoot,
    wanted: ["kafka"],
    env: process.env,
    keep: options.keepStack,
    log,
    onStarted: (started) => {
      stack = started;
    },
  });
  broker = await createBenchBroker(options.brokers);
  const context: BenchContext = {
    projectRoot,
    options,
    broker,
    log,
    // Keyed as the connector keys them only when Kafka Streams needs it, so other runs read what they always read.
    customerTopic: createCustomerTopics(broker, log, options.vsKafkaStreams ? customerRecordKey : null),
  };
  const started = performance.now();
  const partial: Omit<BenchResult, "targets"> & { errors: string[] } = {
    date: new Date().toISOString(),
    node: process.version,
    source: sourceVersion(),
    cpus: cpus().length,
    loadAverage: { start: loadavg().map((l) => Number(l.toFixed(2))), end: [] },
    options: recordedOptions(options),
    errors: [],
  };
  log(
    `${options.quick ? "quick" : "full"} run: ${options.only.join(", ")}${options.vsSpark ? ", vs Spark" : ""}${options.vsKafkaStreams ? ", vs Kafka Streams" : ""}; load average ${partial.loadAverage.start.join(" ")}`,
  );
  // Each part stands alone: one that fails is reported and the others still run.
  const attempt = async <T>(part: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      partial.errors.push(`${part}: ${describe(error)}`);
      log(`${part} failed: ${describe(error)}`);
      signalAll("SIGTERM");
      return undefined;
    }
  };
  if (options.only.includes("saturation")) {
    const saturation = await attempt("saturation", () => runSaturation(context));
    if (saturation) partial.saturation = saturation;
  }
  if (options.only.includes("latency")) {
    const latency = await attempt("latency", () => runLatency(context));
    if (latency) partial.latency = latency;
    if (latency?.error) partial.errors.push(`latency: ${latency.error}`);
  }
  if (options.only.includes("rss")) {
    const rss = await attempt("rss", () => runRss(context));
    if (rss) partial.rss = rss;
  }
  if (options.only.includes("restart")) {
    const restart = await attempt("restart", () => runRestart(context));
    if (restart) partial.restart = restart;
  }
  // Interrupted: leave() is deleting everything and will exit; there is nothing complete to report.
  if (leaving) return;
  partial.loadAverage.end = loadavg().map((l) => Number(l.toFixed(2)));
  const result: BenchResult & { errors: string[]; elapsedSeconds: number } = {
    ...partial,
    targets: evaluateTargets(partial),
    elapsedSeconds: Math.round((performance.now() - started) / 1000),
  };

  process.stdout.write(renderReport(result) + failures(result.errors));
  const outDir = resolve(projectRoot, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const stem = join(outDir, result.date.replaceAll(":", "-"));
  writeFileSync(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${stem}.html`, htmlReport(result, result.errors));
  log(
    `results: ${stem}.json and ${stem}.html (${result.elapsedSeconds} s; load average ${result.loadAverage.end.join(" ")})`,
  );
  await leave(result.errors.length > 0 ? 1 : 0);
}

/** The soak on a three-node cluster: started with stack.sh when none runs on KAFKA_PORT, stopped after. */
async function soak(options: SoakOptions) {
  startStack({
    projectRoot,
    wanted: ["kafka"],
    env: { ...process.env, KAFKA_NODES: "3" },
    keep: options.keepStack,
    log,
    onStarted: (started) => {
      stack = started;
    },
  });
  broker = await createBenchBroker(options.brokers);
  const loadStart = loadavg().map((l) => Number(l.toFixed(2)));
  log(`soak on ${options.brokers.join(",")}; load average ${loadStart.join(" ")}`);
  const run = await runSoak(broker, options, projectRoot, log);
  if (leaving) return;
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    source: sourceVersion(),
    cpus: cpus().length,
    loadAverage: { start: loadStart, end: loadavg().map((l) => Number(l.toFixed(2))) },
    options: { ...options, brokers: undefined, outDir: undefined, keepStack: undefined },
    soak: run,
  };
  process.stdout.write(renderSoakReport(run));
  const outDir = resolve(projectRoot, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `soak-${result.date.replaceAll(":", "-")}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`results: ${file} (load average ${result.loadAverage.end.join(" ")})`);
  await leave(soakPassed(run) ? 0 : 1);
}

main().catch((error: unknown) => leave(1, describe(error)));
