// Global setup of the integration tests: a real Kafka and Redis from scripts/stack.sh, started
// when not already running and stopped afterwards if this run started them.

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../data.js";

const stackScript = join(projectRoot, "scripts", "stack.sh");

/** Both services answer (started by an earlier `npm run stack:up`, or by anyone else). */
const stackRunning = () => {
  const status = execFileSync("bash", [stackScript, "status"], { encoding: "utf8" });
  return /^kafka\s+up/m.test(status) && /^redis\s+up/m.test(status);
};

export default function setup(): () => void {
  if (stackRunning()) return () => undefined;
  execFileSync("bash", [stackScript, "up"], { stdio: "inherit", timeout: 180_000 });
  return () => {
    if (!process.env.STEDI_KEEP_STACK) execFileSync("bash", [stackScript, "down"], { stdio: "inherit" });
  };
}
