// Serves /metrics (Prometheus text) and /healthz for a long-running command.

import { createServer } from "node:http";
import { describeCause, unavailableError } from "../errors.js";

export type MetricsServer = { url: string; close(): Promise<void> };

export function createMetricsServer(options: {
  host: string;
  port: number;
  metrics(): string;
  /** Healthy means serving: 200 with the details, otherwise 503. */
  health(): { healthy: boolean; details: Record<string, unknown> };
}): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405, { allow: "GET" }).end();
    } else if (path === "/metrics") {
      response
        .writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
        .end(options.metrics());
    } else if (path === "/healthz") {
      const { healthy, details } = options.health();
      response
        .writeHead(healthy ? 200 : 503, { "content-type": "application/json" })
        .end(`${JSON.stringify({ status: healthy ? "ok" : "starting", ...details })}\n`);
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /healthz\n");
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
