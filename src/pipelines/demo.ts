// stedi demo: the whole system at once on the local stack — Redis → redis-source → Kafka, simulate →
// Redis and Kafka, join, and the live graph — each stage a `stedi` child process, with a live status
// line, and everything stopped cleanly on Ctrl-C.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createKafkaPort } from "../adapters/kafka/index.js";
import type { Reporter } from "../adapters/terminal.js";
import type { CommonConfig } from "../config/config.js";
import type { DemoConfig } from "../config/demo.js";
import { configError, StediError, unavailableError } from "../errors.js";
import { renderStatus, type StageReading, stageRates } from "../render/demo-status.js";
import { type CountedStage, createRecordCounter, type RecordCounter } from "./demo-record-counter.js";
import type { Lifecycle } from "./lifecycle.js";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const stedi = join(projectRoot, "bin", "stedi.js");
const stackScript = join(projectRoot, "scripts", "stack.sh");

type Stage = { name: string; child: ChildProcess; log: string; stderrTail: string[] };

/** Resolves once a stage has printed a line matching `pattern` (or after `timeoutMs`, or if it exits). */
function waitForLine(stage: Stage | undefined, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((done) => {
    if (!stage) return done();
    const timer = setTimeout(finish, timeoutMs);
    function finish() {
      clearTimeout(timer);
      stage?.child.stderr?.off("data", check);
      done();
    }
    function check(chunk: Buffer) {
      if (pattern.test(chunk.toString())) finish();
    }
    stage.child.stderr?.on("data", check);
    stage.child.once("exit", finish);
  });
}

function runScript(args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      "bash",
      [stackScript, ...args],
      { encoding: "utf8", timeout: 180_000 },
      (error, stdout, stderr) => {
        if (error)
          fail(
            new StediError(
              "unavailable",
              `scripts/stack.sh ${args.join(" ")} failed: ${stderr.trim().split("\n").at(-1) ?? error.message}`,
            ),
          );
        else done(`${stdout}${stderr}`);
      },
    );
  });
}

/** Forwards the common Kafka options to a child `stedi` command. */
function kafkaFlags(common: CommonConfig): string[] {
  const flags = ["--brokers", common.brokers.join(","), "--connect-timeout", String(common.connectTimeoutMs)];
  if (common.security.tls) {
    flags.push("--ssl");
    if (common.security.tls.ca) flags.push("--ssl-ca", common.security.tls.ca);
    if (common.security.tls.cert) flags.push("--ssl-cert", common.security.tls.cert);
    if (common.security.tls.key) flags.push("--ssl-key", common.security.tls.key);
  }
  if (common.security.sasl) {
    // The password travels in the child's environment (KAFKA_SASL_PASSWORD) or as its file, never in argv.
    flags.push(
      "--sasl-mechanism",
      common.security.sasl.mechanism,
      "--sasl-username",
      common.security.sasl.username,
    );
    if ("file" in common.security.sasl.password)
      flags.push("--sasl-password-file", common.security.sasl.password.file);
  }
  return flags;
}

export async function runDemo(options: {
  common: CommonConfig;
  demo: DemoConfig;
  reporter: Reporter;
  lifecycle: Lifecycle;
}): Promise<void> {
  const { common, demo, reporter, lifecycle } = options;
  const localBrokers = common.brokers.every(
    (broker) => broker.startsWith("127.0.0.1:") || broker.startsWith("localhost:"),
  );
  let startedStack = false;
  if (demo.manageStack && localBrokers) {
    // An installed stedi (npm install -g) has no scripts/: the stack comes with a checkout only.
    if (!existsSync(stackScript))
      throw configError(
        "demo: this installation cannot start the local Kafka and Redis (they come with a stedi checkout)",
        "start Kafka and Redis yourself, then run stedi demo --no-stack (with --brokers and --redis when not on the default ports)",
      );
    const status = await runScript(["status"]);
    const running = /^kafka\s+up/m.test(status) && /^redis\s+up/m.test(status);
    if (!running) {
      reporter.info("demo: starting the local stack (Kafka and Redis)…");
      reporter.status("demo: starting Kafka and Redis");
      await runScript(["up"]);
      startedStack = true;
    }
  }

  const kafka = createKafkaPort(common, "stedi-demo");
  const stages: Stage[] = [];
  const logDir = common.logDir ?? join(projectRoot, "logs");
  mkdirSync(logDir, { recursive: true });
  let graphUrl: string | undefined;
  const counted: CountedStage[] = [
    { name: `redis-source → ${common.redisTopic}`, topic: common.redisTopic },
    { name: `simulate → ${common.eventsTopic}`, topic: common.eventsTopic },
    { name: `join → ${common.outputTopic}`, topic: common.outputTopic },
    { name: "dead letters", topic: common.dlqTopic },
  ];
  let counter: RecordCounter | undefined;
  const started: StageReading = {
    at: Date.now(),
    records: Object.fromEntries(counted.map(({ name }) => [name, 0])),
  };

  const start = (name: string, args: string[]) => {
    const log = join(logDir, `demo-${name}.log`);
    const file = createWriteStream(log, { flags: "a" });
    const child = spawn(process.execPath, [stedi, ...args], {
      cwd: projectRoot,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const stage: Stage = { name, child, log, stderrTail: [] };
    child.stderr?.on("data", (chunk: Buffer) => {
      file.write(chunk);
      const text = chunk.toString();
      stage.stderrTail = [
        ...stage.stderrTail,
        ...text.split("\n").filter((line) => line.trim() !== ""),
      ].slice(-5);
      const served = /graph: serving (\S+)/.exec(text);
      if (served) graphUrl = served[1];
    });
    child.on("exit", (code, signal) => {
      file.end();
      if (!lifecycle.isStopping) {
        const last = stage.stderrTail.at(-1) ?? `exit ${code ?? signal}`;
        lifecycle.stop({
          kind: "failure",
          error: unavailableError(`demo: ${name} stopped unexpectedly: ${last}`, { hint: `see ${log}` }),
        });
      }
    });
    stages.push(stage);
  };

  try {
    await kafka.ensureTopics([common.redisTopic, common.eventsTopic, common.outputTopic, common.dlqTopic]);
    // Counting starts before any stage, so that the status line counts every record they commit.
    counter = await createRecordCounter(kafka, counted, {
      onFailure: (error) => reporter.warn(`demo: the status line stopped counting: ${error.message}`),
    });
    const kafkaArgs = kafkaFlags(common);
    start("graph", [
      "graph",
      ...kafkaArgs,
      "--output-topic",
      common.outputTopic,
      "--port",
      String(demo.port),
      "--from",
      "latest",
    ]);
    start("join", [
      "join",
      ...kafkaArgs,
      "--redis-topic",
      common.redisTopic,
      "--events-topic",
      common.eventsTopic,
      "--output-topic",
      common.outputTopic,
      "--dlq-topic",
      common.dlqTopic,
      "--no-log",
      ...(common.group ? ["--group", common.group] : []),
    ]);
    start("redis-source", [
      "redis-source",
      ...kafkaArgs,
      "--redis",
      demo.redisUrl,
      "--redis-topic",
      common.redisTopic,
    ]);
    // Writes reach Kafka only once redis-source is attached as a replica: the seniors come after.
    await waitForLine(
      stages.find((stage) => stage.name === "redis-source"),
      /attached to|resuming|publishing/,
      30_000,
    );
    start("simulate", [
      "simulate",
      ...kafkaArgs,
      "--redis",
      demo.redisUrl,
      "--events-topic",
      common.eventsTopic,
      "--speed",
      String(demo.speed),
      "--customers",
      String(demo.customers),
    ]);
  } catch (error) {
    lifecycle.stop({ kind: "failure", error });
  }

  let before: StageReading | undefined;
  let announced = false;
  let lastPrinted = 0;
  const poll = () => {
    const now = { at: Date.now(), records: counter?.counts() ?? started.records };
    const line = renderStatus(stageRates(before, now));
    before = now;
    if (graphUrl && !announced) {
      announced = true;
      reporter.info(
        `demo: the graph is live at ${graphUrl} (Ctrl-C stops everything; stage logs in ${logDir}/demo-*.log)`,
      );
    }
    reporter.status(line);
    // Without a terminal there is no live line: print one every 5 s instead.
    if (!process.stderr.isTTY && Date.now() - lastPrinted >= 5000) {
      lastPrinted = Date.now();
      process.stderr.write(`demo: ${line}\n`);
    }
  };
  const poller = setInterval(poll, 1000);
  const deadline =
    demo.runForMs === undefined
      ? undefined
      : setTimeout(() => lifecycle.stop({ kind: "idle" }), demo.runForMs);

  const reason = await lifecycle.stopped;
  clearInterval(poller);
  clearTimeout(deadline);
  reporter.close();
  reporter.info("demo: stopping simulate, redis-source, join and graph…");
  // The producer of the data stops first, the consumers after, so that the last records get joined.
  for (const name of ["simulate", "redis-source", "join", "graph"]) {
    const stage = stages.find((candidate) => candidate.name === name);
    if (!stage || stage.child.exitCode !== null || stage.child.signalCode !== null) continue;
    stage.child.kill("SIGTERM");
    const exited = new Promise<void>((done) => stage.child.once("exit", () => done()));
    const timeout = new Promise<"timeout">((done) => setTimeout(() => done("timeout"), 8000));
    if ((await Promise.race([exited, timeout])) === "timeout") {
      reporter.warn(`demo: ${name} did not stop within 8 s; killing it`);
      stage.child.kill("SIGKILL");
      await exited;
    }
  }
  // The totals once the stages' last commits are read back; rates are averages over the whole run.
  let totals: StageReading | undefined;
  if (counter) {
    const settled = await counter.settle(5000).catch(() => false);
    totals = { at: Date.now(), records: counter.counts() };
    await counter.close();
    if (!settled)
      reporter.warn("demo: the totals below may miss the last records (not all read back within 5 s)");
  }
  await kafka.close();
  if (startedStack && !demo.keepStack) {
    reporter.info("demo: stopping the local stack");
    await runScript(["down"]).catch((error: unknown) => reporter.warn(String(error)));
  }
  if (totals) reporter.info(`demo: ${renderStatus(stageRates(started, totals))}`);
  if (reason.kind === "failure") throw reason.error;
}
