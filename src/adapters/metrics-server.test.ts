import { Counter } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetricsRegistry, createMetricsServer, type MetricsServer } from "./metrics-server.js";

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve(status: () => { ready: boolean; details: Record<string, unknown> }) {
  const registry = createMetricsRegistry();
  const counter = new Counter({ name: "stedi_test_things_total", help: "Things.", registers: [registry] });
  const server = await createMetricsServer({ host: "127.0.0.1", port: 0, registry, status });
  servers.push(server);
  return { server, counter };
}

describe("metrics server", () => {
  it("serves the command's metrics with prom-client's default process and Node metrics", async () => {
    const { server, counter } = await serve(() => ({ ready: true, details: {} }));
    counter.inc(3);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toMatch(/^stedi_test_things_total 3$/m);
    for (const name of [
      "process_resident_memory_bytes",
      "process_cpu_seconds_total",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
      "nodejs_gc_duration_seconds",
    ])
      expect(text).toContain(`# TYPE ${name} `);
  });

  it("keeps each registry's counts apart", async () => {
    const first = await serve(() => ({ ready: true, details: {} }));
    const second = await serve(() => ({ ready: true, details: {} }));
    first.counter.inc(5);
    expect(await (await fetch(`${second.server.url}/metrics`)).text()).toMatch(
      /^stedi_test_things_total 0$/m,
    );
  });

  it("answers /healthz 200 throughout, and /ready 503 until ready, then 200", async () => {
    let ready = false;
    const { server } = await serve(() => ({ ready, details: { customersLoaded: ready } }));
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", ready: false, customersLoaded: false });
    const starting = await fetch(`${server.url}/ready`);
    expect(starting.status).toBe(503);
    expect(await starting.json()).toMatchObject({ status: "starting", ready: false });
    ready = true;
    const done = await fetch(`${server.url}/ready`);
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ status: "ready", ready: true, customersLoaded: true });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("answers 404 elsewhere and 405 to anything but GET", async () => {
    const { server } = await serve(() => ({ ready: true, details: {} }));
    expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("names the port it cannot bind", async () => {
    const { server } = await serve(() => ({ ready: true, details: {} }));
    const port = Number(new URL(server.url).port);
    await expect(
      createMetricsServer({
        host: "127.0.0.1",
        port,
        registry: createMetricsRegistry(),
        status: () => ({ ready: true, details: {} }),
      }),
    ).rejects.toThrowError(`cannot serve metrics on 127.0.0.1:${port}`);
  });
});
