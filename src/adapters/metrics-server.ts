// Serves a long-running command's Prometheus /metrics (prom-client), its liveness on /healthz and
// its readiness on /ready.

import { createServer } from "node:http";
import { collectDefaultMetrics, Registry } from "prom-client";
import { describeCause, unavailableError } from "../errors.js";

export type MetricsServer = { url: string; close(): Promise<void> };

/**
 * A registry of the command's own. Not prom-client's global one: tests run several commands in one
 * process, and each needs its own counts.
 */
export const createMetricsRegistry = (): Registry => new Registry();

/** What a command says about itself: ready once connected and caught up; details shown on both paths. */
export type ServiceStatus = { ready: boolean; details: Record<string, unknown> };

/**
 * Serves `registry` on /metrics, with prom-client's default process and Node metrics added to it
 * (resident memory, CPU, event-loop lag, GC, heap: collected only when served, as the GC observer
 * costs the hot path something). /healthz answers 200 as long as the process answers at all (a
 * liveness probe must not restart a command that is only catching up), /ready 503 until
 * `status().ready`, then 200. Throws an unavailable StediError when the port cannot be bound.
 */
export function createMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  status(): ServiceStatus;
}): Promise<MetricsServer> {
  collectDefaultMetrics({ register: options.registry });
  const json = (ready: boolean, status: string, details: Record<string, unknown>) =>
    `${JSON.stringify({ status, ready, ...details })}\n`;
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405, { allow: "GET" }).end();
    } else if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": options.registry.contentType }).end(text),
        (error: unknown) =>
          response.writeHead(500, { "content-type": "text/plain" }).end(`${describeCause(error)}\n`),
      );
    } else if (path === "/healthz") {
      const { ready, details } = options.status();
      response.writeHead(200, { "content-type": "application/json" }).end(json(ready, "ok", details));
    } else if (path === "/ready") {
      const { ready, details } = options.status();
      response
        .writeHead(ready ? 200 : 503, { "content-type": "application/json" })
        .end(json(ready, ready ? "ready" : "starting", details));
    } else {
      response
        .writeHead(404, { "content-type": "text/plain" })
        .end("not found: try /metrics, /healthz or /ready\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error) =>
      reject(
        unavailableError(`cannot serve metrics on ${options.host}:${options.port}: ${describeCause(error)}`, {
          hint: "choose another --metrics-port",
        }),
      ),
    );
    server.listen(options.port, options.host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      resolve({
        url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
