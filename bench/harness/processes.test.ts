import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseProcStatus, readMemory } from "./processes.js";

describe("parseProcStatus", () => {
  it("reads VmRSS and VmHWM in MiB", () => {
    const status =
      "Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n";
    expect(parseProcStatus(status)).toEqual({ rssMiB: 100, peakMiB: 200 });
  });

  it("gives undefined for kernel threads and zombies, which have no memory lines", () => {
    expect(parseProcStatus("Name:\tkthreadd\nState:\tS (sleeping)\n")).toBeUndefined();
  });

  it("reads this very process, and nothing for a pid that does not exist", () => {
    const memory = readMemory(process.pid);
    expect(memory?.rssMiB).toBeGreaterThan(1);
    expect(memory && memory.peakMiB >= memory.rssMiB).toBe(true);
    expect(readMemory(2 ** 22 + 1)).toBeUndefined();
  });

  it("adds the VmRSS of a process's children to its own (a join with --workers)", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
    try {
      let childMiB = 0;
      for (let waited = 0; childMiB < 20 && waited < 10_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        childMiB = readMemory(child.pid as number)?.rssMiB ?? 0;
      }
      expect(childMiB).toBeGreaterThanOrEqual(20);
      const own = parseProcStatus(readFileSync(`/proc/${process.pid}/status`, "utf8"))?.rssMiB ?? 0;
      const tree = readMemory(process.pid);
      // Both read a moment apart: allow a few MiB of change in between.
      expect(tree?.rssMiB).toBeGreaterThan(own + childMiB - 5);
      expect(tree?.peakMiB).toBe(tree?.rssMiB);
    } finally {
      child.kill();
    }
  });
});
