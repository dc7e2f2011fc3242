// stedi graph: the joined topic, decoded into a sliding window, drawn live in browsers over SSE.

import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Asset, createWebServer, type WebServer } from "../adapters/http-server.js";
import type { ConsumedRecord, GroupConsumer } from "../adapters/kafka/index.js";
import { createKafkaPort } from "../adapters/kafka/index.js";
import { createMetricsRegistry, type MetricsServer } from "../adapters/metrics-server.js";
import type { Reporter } from "../adapters/terminal.js";
import type { CommonConfig, MetricsConfig } from "../config/config.js";
import type { GraphConfig } from "../config/graph.js";
import { decodeGraphPoint } from "../core/graph/graph-point.js";
import { GraphWindow, type WindowPoint } from "../core/graph/graph-window.js";
import { StediError } from "../errors.js";
import { createGraphMetrics } from "./graph-metrics.js";
import type { Lifecycle } from "./lifecycle.js";
import { createStdout } from "./output.js";
import { serveMetrics } from "./serve-metrics.js";

export type GraphCounts = { records: number; points: number; bad: number };

const javascript = "text/javascript; charset=utf-8";

/**
 * The page and everything it loads, all from this installation: many users have no internet, so no
 * CDN. Chart.js is its UMD build from the installed package; the window logic is the compiled core
 * module itself, so the page fades points exactly as the tested code says. Throws an internal error
 * naming the first missing file.
 */
function graphAssets(): Record<string, Asset> {
  const web = (name: string) => fileURLToPath(new URL(`../../web/${name}`, import.meta.url));
  let chartDir: string;
  try {
    chartDir = dirname(fileURLToPath(import.meta.resolve("chart.js")));
  } catch (error) {
    throw new StediError("internal", "the chart.js package is not installed", {
      hint: "run npm install",
      cause: error,
    });
  }
  const assets: Record<string, Asset> = {
    "/": { file: web("graph.html"), type: "text/html; charset=utf-8" },
    "/app.js": { file: web("graph.js"), type: javascript },
    "/graph.css": { file: web("graph.css"), type: "text/css; charset=utf-8" },
    "/graph-window.js": {
      file: fileURLToPath(new URL("../core/graph/graph-window.js", import.meta.url)),
      type: javascript,
    },
    "/vendor/chart.js": { file: join(chartDir, "chart.umd.min.js"), type: javascript },
  };
  for (const { file } of Object.values(assets))
    if (!existsSync(file))
      throw new StediError("internal", `the graph page is incomplete: ${file} is missing`, {
        hint: "run npm run build, or reinstall stedi",
      });
  return assets;
}

/**
 * Serves the graph, then consumes the topic into the window until the lifecycle stops: on a signal
 * or idle it resolves with the counts; on a failure (Kafka, the server) it throws that StediError.
 * Records that are not graph points are counted and reported, never fatal.
 */
export async function runGraph(options: {
  common: CommonConfig;
  graph: GraphConfig;
  reporter: Reporter;
  lifecycle: Lifecycle;
  /** --metrics-port and --metrics-host; no server without them. */
  metrics?: MetricsConfig;
}): Promise<GraphCounts> {
  const { common, graph, reporter, lifecycle } = options;
  const topic = common.outputTopic;
  const counts: GraphCounts = { records: 0, points: 0, bad: 0 };
  const window = new GraphWindow(graph.window);
  const stdout = createStdout(lifecycle);

  // The port is claimed before Kafka is reached: a port in use fails at once, not after a connect.
  const server: WebServer = await createWebServer({
    host: graph.host,
    port: graph.port,
    assets: graphAssets(),
    eventsPath: "/events",
    greeting: () => [
      { event: "source", data: JSON.stringify({ topic }) },
      { event: "snapshot", data: JSON.stringify(window.snapshot()) },
    ],
    health: () => ({ topic, received: window.received, bad: counts.bad, viewers: server.subscribers }),
    onError: (error) => lifecycle.stop({ kind: "failure", error }),
  });

  const registry = createMetricsRegistry();
  const metrics = createGraphMetrics(registry, { viewers: () => server.subscribers });
  // Ready once the consumer has its partitions.
  let assigned = false;
  let metricsServer: MetricsServer | undefined;
  const port = createKafkaPort(common, "stedi-graph");
  try {
    metricsServer = await serveMetrics({
      name: "graph",
      config: options.metrics,
      registry,
      status: () => ({
        ready: assigned && !lifecycle.isStopping,
        details: { topic, received: window.received, bad: counts.bad, viewers: server.subscribers },
      }),
      reporter,
    });
    // The graph is often opened before join has written anything: the topic is created as join
    // would create it, so the page can say "waiting for data" instead of the command failing.
    await port.ensureTopics([topic]);
    // A throwaway group, as the consoles use: every start replays from --from. The common default,
    // earliest, suits the window: the page opens on the latest points at once instead of staying
    // empty until the next round of scores (about a minute); only the last --window are kept.
    const groupId = common.group ?? `stedi-graph-${randomUUID()}`;
    // Announced once Kafka answers, so an unreachable broker is one line, not a URL and then an error.
    reporter.info(`graph: serving ${server.url}`);

    const plot = (message: ConsumedRecord, partition: number): WindowPoint | undefined => {
      counts.records += 1;
      metrics.records.inc();
      const decoded = decodeGraphPoint(message.value?.toString("utf8") ?? "");
      if (!decoded.ok) {
        counts.bad += 1;
        metrics.bad.inc();
        reporter.badRecord({ topic, partition, offset: message.offset }, decoded.reason);
        return undefined;
      }
      counts.points += 1;
      const point = window.add(decoded.value);
      if (common.json) stdout.write(`${JSON.stringify(point)}\n`);
      return point;
    };

    let consumer: GroupConsumer | undefined;
    try {
      consumer = await port.consume({
        groupId,
        topics: [topic],
        fromBeginning: common.from === "earliest",
        autoCommit: common.group !== undefined,
        eachBatch: async (batch) => {
          const points: WindowPoint[] = [];
          for (const message of batch.records) {
            const point = plot(message, batch.partition);
            if (point) points.push(point);
          }
          // One event per batch, cut to what the window keeps: a replay of a long topic costs
          // the page one redraw per batch, not one per record.
          if (points.length > 0)
            server.broadcast({ event: "points", data: JSON.stringify(points.slice(-window.capacity)) });
          lifecycle.markActivity();
          reporter.status(
            `graph: ${counts.points} points from ${topic}, ${server.subscribers} viewer(s) at ${server.url}`,
          );
          return batch.records.at(-1)?.offset;
        },
        onAssigned: () => {
          assigned = true;
          lifecycle.watchIdle(common.exitOnIdleMs);
        },
        onFailure: (error) => lifecycle.stop({ kind: "failure", error }),
      });
    } catch (error) {
      lifecycle.stop({ kind: "failure", error });
    }

    const reason = await lifecycle.stopped;
    // Ending the streams first lets open pages show "disconnected" while Kafka says goodbye.
    await server.close();
    await consumer?.close();
    reporter.close();
    if (reason.kind === "failure") throw reason.error;
    reporter.info(
      `graph: ${counts.records} records from ${topic}, ${counts.points} plotted, ${counts.bad} bad`,
      { topic, records: counts.records, points: counts.points, bad: counts.bad },
    );
    return counts;
  } finally {
    await port.close();
    await server.close();
    await metricsServer?.close();
  }
}
