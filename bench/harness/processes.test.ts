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
});
