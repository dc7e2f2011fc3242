import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { removeAbandonedWrites, writeCheckpointFile } from "../../src/pipelines/join/customer-checkpoint.js";

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "stedi-checkpoint-"));
  folders.push(folder);
  return folder;
}

const minutes = 60_000;

describe("a checkpoint's unfinished writes", () => {
  it("are removed once older than the bound, and nothing else is", async () => {
    const folder = await stateDir();
    const path = join(folder, "group+topic.customers");
    const now = Date.now();
    const files: Record<string, number> = {
      "group+topic.customers": 60 * minutes,
      "group+topic.customers.0a1b2c3d.tmp": 60 * minutes,
      "group+topic.customers.deadbeef.tmp": 2 * minutes,
      "other+topic.customers.0a1b2c3d.tmp": 60 * minutes,
      "group+topic.customers.notatemp.tmp": 60 * minutes,
      "group+topic.customers.0a1b2c3d.tmp.keep": 60 * minutes,
    };
    for (const [name, age] of Object.entries(files)) {
      await writeFile(join(folder, name), "x");
      const time = new Date(now - age);
      await utimes(join(folder, name), time, time);
    }
    expect(await removeAbandonedWrites(path, 10 * minutes, now)).toEqual([
      "group+topic.customers.0a1b2c3d.tmp",
    ]);
    expect((await readdir(folder)).sort()).toEqual(
      Object.keys(files)
        .filter((name) => name !== "group+topic.customers.0a1b2c3d.tmp")
        .sort(),
    );
  });

  it("leaves nothing behind after a write, and a missing folder is no error", async () => {
    const folder = await stateDir();
    const path = join(folder, "deeper", "g+t.customers");
    expect(await removeAbandonedWrites(path, 0, Date.now())).toEqual([]);
    await writeCheckpointFile(path, [Buffer.from("checkpoint")]);
    expect(await readdir(join(folder, "deeper"))).toEqual(["g+t.customers"]);
  });
});
