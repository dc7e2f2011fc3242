// The live risk graph in a real headless Chromium, fed through the real broker.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { dataPath, projectRoot } from "./data.js";
import { type Running, startStedi } from "./support/cli.js";
import { brokers, freshTopic, produce } from "./support/kafka.js";

// Debian's chromium: CI installs it; playwright-core brings no browser of its own.
const chromiumPath = process.env.STEDI_CHROMIUM ?? "/usr/bin/chromium";
const title =
  "STEDI Population Risk Change by Birth Year (below zero is deterioration, greater than zero is improvement)";
const imgCustomer = '<img src=x onerror="window.__pwned=1">';
const scriptCustomer = "<script>window.__pwned=2</script>Mallory";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh Chromium profile per test; fails (never skips) when the browser is not installed. */
async function openBrowser(): Promise<BrowserContext> {
  if (!existsSync(chromiumPath))
    throw new Error(
      `the graph's browser test needs Chromium at ${chromiumPath}: apt-get install chromium (or set STEDI_CHROMIUM)`,
    );
  const profile = mkdtempSync(join(tmpdir(), "stedi-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  cleanups.push(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** Starts `stedi graph` on a free port and resolves with the URL it prints. */
async function startGraph(topic: string, extra: string[] = []): Promise<{ running: Running; url: string }> {
  const running = startStedi([
    "graph",
    "--brokers",
    brokers.join(","),
    "--output-topic",
    topic,
    "--port",
    "0",
    ...extra,
  ]);
  cleanups.push(() => {
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill("SIGKILL");
  });
  await running.waitFor(/graph: serving http:\/\/\S+\n/);
  const url = /graph: serving (http:\/\/\S+)/.exec(running.stderr())?.[1];
  if (!url) throw new Error(`no URL in: ${running.stderr()}`);
  return { running, url };
}

/** Console errors and uncaught exceptions of a page, CSP refusals included. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, { headers }, (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      });
      req.on("error", reject);
      req.end();
    },
  );
}

/** The page's read-only test hooks (web/graph.js). */
type GraphHooks = {
  pointCount(): number;
  received(): number;
  status(): string;
  customers(): string[];
  pixelOf(seq: number): { x: number; y: number } | undefined;
  tooltip(): { title: string[]; body: string[] } | undefined;
};

// Functions passed to page.evaluate run in the page, where these globals live.
declare global {
  var __stediGraph: GraphHooks | undefined;
  var __pwned: unknown;
}

describe("stedi graph", () => {
  it("draws records from the topic live, as text, and stops cleanly on SIGTERM", async () => {
    const topic = await freshTopic("graph");
    const { running, url } = await startGraph(topic, ["--window", "40"]);

    const index = await get(`${url}/`);
    expect(index.status).toBe(200);
    expect(String(index.headers["content-security-policy"])).toContain("script-src 'self'");
    expect((await get(`${url}/vendor/chart.js`)).body).toContain("Chart.js v4");
    expect((await get(`${url}/healthz`, { host: "attacker.example" })).status).toBe(403);

    const context = await openBrowser();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(url);
    await page.waitForFunction(() => globalThis.__stediGraph?.status() === "waiting");
    expect(await page.locator("h1").textContent()).toBe(title);
    expect(await page.locator("#waiting").isVisible()).toBe(true);
    expect(await page.locator("#status").textContent()).toBe("waiting for data…");
    expect(await page.locator("#counter").textContent()).toBe("0 points received");

    // Real captured records (string and number scores, three key orders), two hostile names, one bad record.
    const real = [
      ...readFileSync(dataPath("real-data", "stedi-graph.jsonl"), "utf8").split("\n").slice(0, 20),
      ...readFileSync(dataPath("real-data", "stedi-graph-sequence.jsonl"), "utf8").split("\n").slice(0, 6),
    ].filter((line) => line.trim() !== "");
    const hostile = [
      JSON.stringify({ customer: imgCustomer, score: "1.5", email: "img@test.com", birthYear: "1950" }),
      JSON.stringify({
        customer: scriptCustomer,
        score: "-2.5",
        email: "script@test.com",
        birthYear: "1945",
      }),
    ];
    await produce(topic, [...real, "not a graph record", ...hostile]);
    const expected = real.length + hostile.length;

    await page.waitForFunction((count) => globalThis.__stediGraph?.received() === count, expected, {
      timeout: 20_000,
    });
    expect(await page.locator("#counter").textContent()).toBe(`${expected} points received`);
    expect(await page.locator("#chart").getAttribute("data-points")).toBe(String(expected));
    expect(await page.evaluate(() => globalThis.__stediGraph?.pointCount())).toBe(expected);
    expect(await page.locator("#status").textContent()).toBe("live");
    expect(await page.locator("#waiting").isVisible()).toBe(false);

    // Hostile names arrive as text: listed literally, no element made from them, nothing ran.
    const listed = await page.locator("#latest .who").allTextContents();
    expect(listed).toContain(imgCustomer);
    expect(listed).toContain(scriptCustomer);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("script:not([src])").count()).toBe(0);
    expect(await page.evaluate(() => globalThis.__pwned)).toBeUndefined();

    // The tooltip of the <img> customer's point (the last but one) shows the name as canvas text.
    const imgSeq = expected - 1;
    const at = await page.evaluate((seq) => globalThis.__stediGraph?.pixelOf(seq), imgSeq);
    const box = await page.locator("#canvas").boundingBox();
    if (!at || !box) throw new Error("the point or the canvas is not drawn");
    await page.mouse.move(box.x + at.x, box.y + at.y);
    await page.waitForFunction(() => globalThis.__stediGraph?.tooltip() !== undefined);
    expect(await page.evaluate(() => globalThis.__stediGraph?.tooltip())).toEqual({
      title: ["Born 1950"],
      body: [`${imgCustomer} (img@test.com)`, "score +1.5"],
    });

    mkdirSync(join(projectRoot, "test-results"), { recursive: true });
    await page.screenshot({ path: join(projectRoot, "test-results", "graph.png") });
    expect(errors).toEqual([]);

    // A page opened later starts from the server's window at once.
    const late = await context.newPage();
    await late.goto(url);
    await late.waitForFunction((count) => globalThis.__stediGraph?.pointCount() === count, expected);
    expect(await late.locator("#counter").textContent()).toBe(`${expected} points received`);

    const health = JSON.parse((await get(`${url}/healthz`)).body) as Record<string, unknown>;
    expect(health).toMatchObject({ status: "ok", topic, received: expected, bad: 1, viewers: 2 });
    expect(running.stderr()).toMatch(new RegExp(`bad record ${topic}\\[0\\]@${real.length}: not JSON`));

    running.child.kill("SIGTERM");
    const result = await Promise.race([
      running.finished,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 5 s")), 5000)),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `graph: ${expected + 1} records from ${topic}, ${expected} plotted, 1 bad`,
    );
    await page.waitForFunction(() => globalThis.__stediGraph?.status() === "disconnected");
    expect(await page.locator("#status").textContent()).toBe("disconnected — retrying");
  });

  it("fails with one line and exit 3 when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const address = blocker.address();
    const port = typeof address === "object" && address ? address.port : 0;

    const running = startStedi(["graph", "--brokers", brokers.join(","), "--port", String(port)]);
    const result = await running.finished;
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
    expect(result.stderr).toContain(
      `cannot serve the graph on 127.0.0.1:${port}: the port is already in use`,
    );
  });

  it("gives one line and exit 3 when no broker answers", async () => {
    const running = startStedi([
      "graph",
      "--brokers",
      "127.0.0.1:9",
      "--connect-timeout",
      "1500",
      "--port",
      "0",
    ]);
    const result = await running.finished;
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
    expect(result.stderr).toContain("cannot reach Kafka at 127.0.0.1:9 within 1.5 s");
  });

  it("exits 0 on --exit-on-idle", async () => {
    const topic = await freshTopic("graph-idle");
    await produce(topic, ['{"customer":"a@test.com","score":"1.0","email":"a@test.com","birthYear":"1960"}']);
    const { running } = await startGraph(topic, ["--exit-on-idle", "1500", "--json"]);
    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      x: 1960,
      y: 1,
      customer: "a@test.com",
      email: "a@test.com",
      seq: 1,
    });
  });
});
