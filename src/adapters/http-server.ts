// The graph's web server (node:http): a few static files, one Server-Sent Events stream, a health check.

import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import { configError, type StediError, unavailableError } from "../errors.js";

/** A file served as is at a path. */
export type Asset = { file: string; type: string };

/** One Server-Sent Event: a name the page listens for, and one line of data (JSON). */
export type SseMessage = { event: string; data: string };

export type WebServerOptions = {
  host: string;
  /** 0 picks a free port; `url` names the one chosen. */
  port: number;
  /** Request path → file, streamed from disk on every request. */
  assets: Record<string, Asset>;
  eventsPath: string;
  /** What every new subscriber receives first, before the broadcasts that follow. */
  greeting(): SseMessage[];
  /** Extra fields for `GET /healthz`. */
  health(): Record<string, unknown>;
  /** A failure after the server started listening (the command should stop). */
  onError(error: StediError): void;
  heartbeatMs?: number;
};

export type WebServer = {
  url: string;
  broadcast(message: SseMessage): void;
  readonly subscribers: number;
  /** Ends every event stream and stops listening. */
  close(): Promise<void>;
};

// Only files from this server may run, and nothing inline: a customer name that smuggles markup into
// the page still cannot execute. Chart.js sets canvas sizes through the style object, which CSP allows.
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** EventSource waits this long before reconnecting after the stream drops. */
const retryMs = 2000;
/** A subscriber that stops reading is dropped past this much unsent data; it reconnects to a snapshot. */
const maxBufferedBytes = 4 * 1024 * 1024;

/** Encodes one event in the SSE wire format; each line of data gets its own `data:` field. */
export function encodeSse(message: SseMessage): string {
  const data = message.data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join("");
  return `event: ${message.event}\n${data}\n`;
}

const isLoopback = (host: string) =>
  host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/**
 * Whether a request's Host header may reach a server bound to `bindHost`. A loopback-bound server
 * only answers loopback names, so a web page that rebinds its own DNS name to 127.0.0.1 cannot read
 * the stream of customers. Servers bound elsewhere are reachable under any name on purpose.
 */
export function isAllowedHost(hostHeader: string | undefined, bindHost: string): boolean {
  if (!isLoopback(bindHost)) return true;
  if (hostHeader === undefined) return false;
  const name = hostHeader.startsWith("[")
    ? hostHeader.slice(1, hostHeader.indexOf("]"))
    : (hostHeader.split(":")[0] ?? "");
  return isLoopback(name.toLowerCase()) || name.toLowerCase().endsWith(".localhost");
}

const urlHost = (host: string) => (isIP(host) === 6 ? `[${host}]` : host);

function listenFailure(error: NodeJS.ErrnoException, host: string, port: number): StediError {
  const where = `${urlHost(host)}:${port}`;
  switch (error.code) {
    case "EADDRINUSE":
      return unavailableError(`cannot serve the graph on ${where}: the port is already in use`, {
        hint: "choose another with --port, or stop the program using it",
        cause: error,
      });
    case "EACCES":
      return unavailableError(`cannot serve the graph on ${where}: permission denied`, {
        hint: "ports below 1024 need privileges; choose another with --port",
        cause: error,
      });
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return configError(`--host ${host} is not an address of this machine`, "try --host 127.0.0.1");
    default:
      return unavailableError(`cannot serve the graph on ${where}: ${error.message}`, { cause: error });
  }
}

function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
) {
  response.writeHead(status, { ...securityHeaders, "content-type": "text/plain; charset=utf-8", ...extra });
  response.end(`${text}\n`);
}

/**
 * Starts listening and resolves once the port is bound. Throws a StediError when it cannot be:
 * `unavailable` (exit 3) for a port in use or forbidden, `config` (exit 2) for a host that is not
 * an address of this machine.
 */
export async function createWebServer(options: WebServerOptions): Promise<WebServer> {
  const subscribers = new Set<ServerResponse>();

  const subscribe = (request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, {
      ...securityHeaders,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      // Proxies in front of the graph must pass events through as they come.
      "x-accel-buffering": "no",
    });
    response.write(`retry: ${retryMs}\n\n`);
    for (const message of options.greeting()) response.write(encodeSse(message));
    subscribers.add(response);
    const forget = () => subscribers.delete(response);
    request.on("close", forget);
    response.on("error", forget);
  };

  const serveAsset = (asset: Asset, request: IncomingMessage, response: ServerResponse) => {
    const headers = { ...securityHeaders, "content-type": asset.type };
    if (request.method === "HEAD") {
      response.writeHead(200, headers);
      response.end();
      return;
    }
    const stream = createReadStream(asset.file);
    stream.once("open", () => {
      response.writeHead(200, headers);
      stream.pipe(response);
    });
    stream.once("error", () => {
      if (!response.headersSent) sendText(response, 500, "cannot read this file");
      else response.destroy();
    });
  };

  const server = createServer((request, response) => {
    if (!isAllowedHost(request.headers.host, options.host))
      return sendText(response, 403, "this server answers only to localhost names");
    if (request.method !== "GET" && request.method !== "HEAD")
      return sendText(response, 405, "method not allowed", { allow: "GET, HEAD" });
    const path = new URL(request.url ?? "/", "http://graph").pathname;
    if (path === options.eventsPath) return subscribe(request, response);
    if (path === "/healthz") {
      response.writeHead(200, { ...securityHeaders, "content-type": "application/json" });
      response.end(`${JSON.stringify({ status: "ok", ...options.health() })}\n`);
      return;
    }
    // Browsers ask for it unprompted; an empty answer keeps their consoles quiet.
    if (path === "/favicon.ico") {
      response.writeHead(204, securityHeaders);
      response.end();
      return;
    }
    const asset = Object.hasOwn(options.assets, path) ? options.assets[path] : undefined;
    if (asset) return serveAsset(asset, request, response);
    sendText(response, 404, "not found");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(listenFailure(error, options.host, options.port)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  server.on("error", (error: NodeJS.ErrnoException) =>
    options.onError(unavailableError(`the graph's web server failed: ${error.message}`, { cause: error })),
  );

  const heartbeat = setInterval(() => {
    for (const response of subscribers) response.write(": heartbeat\n\n");
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  let closing: Promise<void> | undefined;
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;

  return {
    url: `http://${urlHost(options.host)}:${port}`,
    get subscribers() {
      return subscribers.size;
    },
    broadcast(message) {
      const text = encodeSse(message);
      for (const response of subscribers) {
        if (response.writableLength > maxBufferedBytes) {
          subscribers.delete(response);
          response.destroy();
        } else {
          response.write(text);
        }
      }
    },
    close() {
      closing ??= new Promise((resolve) => {
        clearInterval(heartbeat);
        for (const response of subscribers) response.end();
        subscribers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
