// Starts a command's metrics server when --metrics-port asks for one, and announces its URLs.

import type { Registry } from "prom-client";
import { createMetricsServer, type MetricsServer, type ServiceStatus } from "../adapters/metrics-server.js";
import type { Reporter } from "../adapters/terminal.js";
import type { MetricsConfig } from "../config/config.js";

/**
 * Undefined without --metrics-port. Throws an unavailable StediError when the port cannot be bound.
 */
export async function serveMetrics(options: {
  name: string;
  /** Undefined or without a port: no server. */
  config: MetricsConfig | undefined;
  registry: Registry;
  status(): ServiceStatus;
  reporter: Reporter;
}): Promise<MetricsServer | undefined> {
  const { config } = options;
  if (config?.metricsPort === undefined) return undefined;
  const server = await createMetricsServer({
    host: config.metricsHost,
    port: config.metricsPort,
    registry: options.registry,
    status: options.status,
  });
  options.reporter.info(
    `${options.name}: metrics on ${server.url}/metrics, health on ${server.url}/healthz, readiness on ${server.url}/ready`,
    { url: server.url },
  );
  return server;
}
