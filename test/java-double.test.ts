// Differential test of formatJavaDouble against the JDK on this machine: its Double.toString for
// edge cases and millions of random doubles (raw bit patterns of every exponent, subnormals,
// decimals of 1 to 17 digits and their neighbours, scores, integers), printed by
// test/support/java/DoubleTexts.java and compared as they stream in.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatJavaDouble, formatJavaDoubleExact } from "../src/core/formats/java-double.js";
import { projectRoot } from "./data.js";

const randomDoubles = 2_000_000;
const seed = process.env.JAVA_DOUBLE_SEED ?? "17";
/** Every so many lines the text also comes from digit development alone, bypassing the shortcuts. */
const exactEvery = 16;

let classes = "";

beforeAll(() => {
  // Double.toString changed in JDK 19 (shortest digits); the original system ran Java 8 to 17.
  const banner = spawnSync("java", ["-version"], { encoding: "utf8" }).stderr ?? "";
  const major = Number(/version "(?:1\.)?(\d+)/.exec(banner)?.[1]);
  if (!(major >= 8 && major <= 18)) throw new Error(`needs a JDK from 8 to 18 on PATH, found: ${banner}`);
  classes = mkdtempSync(join(tmpdir(), "stedi-java-double-"));
  execFileSync("javac", ["-d", classes, join(projectRoot, "test", "support", "java", "DoubleTexts.java")]);
}, 60_000);

afterAll(() => {
  if (classes) rmSync(classes, { recursive: true, force: true });
});

describe("formatJavaDouble against the JDK's Double.toString", () => {
  it(`agrees on the edge cases and ${randomDoubles} random doubles (seed ${seed})`, async () => {
    const java = spawn("java", ["-cp", classes, "DoubleTexts", seed, String(randomDoubles)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let report = "";
    java.stderr.setEncoding("latin1").on("data", (text: string) => {
      report += text;
    });
    const exited = new Promise<number | null>((resolve) => java.on("close", resolve));

    const float = new Float64Array(1);
    const words = new Uint32Array(float.buffer);
    const high = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
    const mismatches: string[] = [];
    let compared = 0;
    let rest = "";
    const check = (line: string) => {
      words[high] = Number.parseInt(line.slice(0, 8), 16);
      words[1 - high] = Number.parseInt(line.slice(8, 16), 16);
      const value = float[0] as number;
      const expected = line.slice(17);
      compared += 1;
      const actual = formatJavaDouble(value);
      if (actual !== expected && mismatches.length < 20) {
        mismatches.push(`bits ${line.slice(0, 16)}: Java ${expected}, formatJavaDouble ${actual}`);
      }
      if (compared % exactEvery === 0) {
        const exact = formatJavaDoubleExact(value);
        if (exact !== expected && mismatches.length < 20) {
          mismatches.push(`bits ${line.slice(0, 16)}: Java ${expected}, formatJavaDoubleExact ${exact}`);
        }
      }
    };

    const started = performance.now();
    for await (const chunk of java.stdout.setEncoding("latin1")) {
      const text = rest + (chunk as string);
      let start = 0;
      for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
        check(text.slice(start, end));
        start = end + 1;
      }
      rest = text.slice(start);
    }
    const seconds = (performance.now() - started) / 1000;
    expect(await exited, report).toBe(0);
    expect(rest).toBe("");
    expect(mismatches, `seed ${seed}`).toEqual([]);
    // The oracle's own count, so that a truncated stream cannot pass.
    expect(`${compared} doubles`).toBe(/\d+ doubles/.exec(report)?.[0]);
    expect(compared).toBeGreaterThan(randomDoubles);
    console.log(`compared ${compared} doubles with Double.toString in ${seconds.toFixed(1)} s`);
  }, 180_000);
});
