import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createRedisClient, type RedisClient } from "../src/adapters/redis.js";
import { parseRedisUrl } from "../src/config/redis-url.js";
import { dataPath } from "./data.js";
import { runStedi, startStedi } from "./support/cli.js";
import { brokers, freshTopic, port, type ReadRecord, readAll } from "./support/kafka.js";
import { type PrivateRedis, startPrivateRedis } from "./support/redis-server.js";

const b = (text: string) => Buffer.from(text, "utf8").toString("base64");
const impl = (name: string) => `com.moilioncircle.redis.replicator.cmd.impl.${name}`;
const datatype = (name: string) => `com.moilioncircle.redis.replicator.rdb.datatype.${name}`;
const samTest =
  '{"customerName":"Sam Test","email":"sam.test@test.com","phone":"8015551212","birthDay":"2001-01-03"}';
const fixture = () =>
  readFileSync(dataPath("fixtures", "redis-server", "zadd-customer-sam-test.json"), "utf8");

const zadd = (key: string, flags: string, pairs: [string, string][]) => {
  const entries = `[${pairs.map(([member, score]) => `{"element":"${b(member)}","score":${score}}`).join(",")}]`;
  return [
    impl("ZAddCommand"),
    `{"key":"${b(key)}",${flags},"zSetEntries":${entries},"zsetEntries":${entries}}`,
  ];
};
const plainZadd = (key: string, member: string, score = "0.0") =>
  zadd(key, '"existType":"NONE","ch":false,"incr":false', [[member, score]]);
const set = (key: string, value: string, existType = "NONE") => [
  impl("SetCommand"),
  `{"key":"${b(key)}","value":"${b(value)}","expiredType":"NONE","expiredValue":null,"existType":"${existType}"}`,
];
const select = (index: number) => [impl("SelectCommand"), `{"index":${index}}`];
const pairs = (records: ReadRecord[]) => records.map((record) => [record.key, record.value]);

let redis: PrivateRedis;
let client: RedisClient;

beforeAll(async () => {
  redis = await startPrivateRedis();
  client = await createRedisClient(parseRedisUrl(redis.url));
});
afterAll(async () => {
  await client?.close();
  await redis?.stop();
});

/** A fresh topic (its offsets topic is created by redis-source) and the flags pointing at them. */
async function sourceFlags(label: string, url = redis.url) {
  const topic = await freshTopic(label);
  return {
    topic,
    flags: ["redis-source", "--brokers", brokers.join(","), "--redis", url, "--redis-topic", topic],
  };
}

describe("stedi redis-source", () => {
  it("publishes the reference ZADD as exactly the fixture's bytes, and every command byte for byte", async () => {
    await redis.cli("flushall");
    const { topic, flags } = await sourceFlags("rs-commands");
    const running = startStedi([...flags, "--exit-on-idle", "2500"]);
    await running.waitFor("publishing writes from now on");

    // The reference, exactly as the README runs it.
    await redis.cli("zadd", "Customer", "0", samTest);
    const run = (...args: string[]) => client.command(args);
    await run("ZADD", "z", "1", "m");
    await run("ZADD", "z", "XX", "CH", "INCR", "2", "m");
    await run("ZADD", "z", "NX", "1.5", "n");
    await run("ZADD", "z", "0", "m2", "1e7", "m3", "-inf", "m4");
    await run("SET", "k", "v");
    await run("SET", "k2", "v2", "EX", "100");
    await run("SET", "k3", "v3", "PXAT", String(Date.now() + 100_000));
    await run("SET", "k4", "v4", "NX");
    await run("SETEX", "k5", "100", "v5");
    await run("DEL", "k4", "k5");
    await run("UNLINK", "k3");
    await run("EXPIRE", "k", "100");
    const expireAt = (await client.command(["PEXPIRETIME", "k"])).value;
    await run("PEXPIRE", "k2", "200000");
    const pexpireAt = (await client.command(["PEXPIRETIME", "k2"])).value;
    await run("ZREM", "z", "n");
    await run("ZINCRBY", "z", "2.5", "m");
    await run("ZREMRANGEBYSCORE", "z", "-inf", "(100");
    await run("HSET", "h", "f", "v", "f2", "v2");
    await run("SADD", "s", "a", "b");
    await run("SREM", "s", "a");
    await run("LPUSH", "l", "a", "b");
    await run("RPUSH", "l", "c");
    await run("INCR", "counter");
    await redis.cli("-n", "1", "set", "other", "x");
    await run("SET", "short", "1", "PX", "50");
    await new Promise((resolve) => setTimeout(resolve, 200));
    await run("GET", "short"); // expired: Redis propagates a DEL
    await run("FLUSHDB");
    await run("FLUSHALL");

    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(pairs(await readAll(topic))).toEqual([
      select(0),
      [impl("ZAddCommand"), fixture()],
      plainZadd("z", "m", "1.0"),
      zadd("z", '"existType":"XX","ch":true,"incr":true', [["m", "2.0"]]),
      zadd("z", '"existType":"NX","ch":false,"incr":false', [["n", "1.5"]]),
      zadd("z", '"existType":"NONE","ch":false,"incr":false', [
        ["m2", "0.0"],
        ["m3", "1.0E7"],
        ["m4", '"-Infinity"'],
      ]),
      set("k", "v"),
      // Redis 7 turns EX, PXAT and SETEX into `SET … PXAT <ms>`, a form the original did not read.
      set("k2", "v2"),
      set("k3", "v3"),
      set("k4", "v4", "NX"),
      set("k5", "v5"),
      [impl("DelCommand"), `{"keys":["${b("k4")}","${b("k5")}"]}`],
      [impl("UnLinkCommand"), `{"keys":["${b("k3")}"]}`],
      // EXPIRE and PEXPIRE arrive as PEXPIREAT <epoch-ms>.
      [impl("PExpireAtCommand"), `{"key":"${b("k")}","ex":${expireAt}}`],
      [impl("PExpireAtCommand"), `{"key":"${b("k2")}","ex":${pexpireAt}}`],
      [impl("ZRemCommand"), `{"key":"${b("z")}","members":["${b("n")}"]}`],
      [impl("ZIncrByCommand"), `{"key":"${b("z")}","increment":2.5,"member":"${b("m")}"}`],
      [impl("ZRemRangeByScoreCommand"), `{"key":"${b("z")}","min":"${b("-inf")}","max":"${b("(100")}"}`],
      [impl("HSetCommand"), `{"key":"${b("h")}","field":"${b("f")}","value":"${b("v")}"}`],
      [impl("SAddCommand"), `{"key":"${b("s")}","members":["${b("a")}","${b("b")}"]}`],
      [impl("SRemCommand"), `{"key":"${b("s")}","members":["${b("a")}"]}`],
      [impl("LPushCommand"), `{"key":"${b("l")}","values":["${b("a")}","${b("b")}"]}`],
      [impl("RPushCommand"), `{"key":"${b("l")}","values":["${b("c")}"]}`],
      select(1),
      set("other", "x"),
      select(0),
      set("short", "1"),
      [impl("DelCommand"), `{"keys":["${b("short")}"]}`],
      [impl("FlushDBCommand"), '{"async":false}'],
      [impl("FlushAllCommand"), '{"async":false}'],
    ]);
    expect(result.stderr).toContain("skipping INCR: not a command the connector publishes");
    expect(result.stderr).toMatch(/published 30 records \(0 snapshot\), skipped 1 \(INCR 1\)/);
  });

  it("emits the commands inside MULTI/EXEC one by one", async () => {
    await redis.cli("flushall");
    const { topic, flags } = await sourceFlags("rs-multi");
    const running = startStedi([...flags, "--exit-on-idle", "2000"]);
    await running.waitFor("publishing writes from now on");
    const replies = await client.pipeline([
      ["MULTI"],
      ["ZADD", "Customer", "0", samTest],
      ["SET", "in-multi", "1"],
      ["SADD", "s", "x"],
      ["EXEC"],
    ]);
    expect(replies.at(-1)?.type).toBe("array");
    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(pairs(await readAll(topic))).toEqual([
      select(0),
      [impl("ZAddCommand"), fixture()],
      set("in-multi", "1"),
      [impl("SAddCommand"), `{"key":"${b("s")}","members":["${b("x")}"]}`],
    ]);
  });

  it("publishes the existing keys first with --snapshot, in the RDB shape of the contract", async () => {
    await redis.cli("flushall");
    await redis.cli("zadd", "Customer", "0", samTest);
    const { topic, flags } = await sourceFlags("rs-snapshot");
    const running = startStedi([...flags, "--snapshot", "--exit-on-idle", "2000"]);
    await running.waitFor("snapshot of 1 keys");
    await redis.cli("sadd", "after", "x");
    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(pairs(await readAll(topic))).toEqual([
      [
        datatype("KeyStringValueZSet"),
        `{"db":{"dbNumber":0,"dbsize":1,"expires":0},"valueRdbType":5,"expiredType":"NONE","expiredValue":null,"evictType":"NONE","evictValue":null,"key":"${b("Customer")}","value":[{"element":"${b(samTest)}","score":0.0}],"expiredSeconds":null,"expiredMs":null}`,
      ],
      select(0),
      [impl("SAddCommand"), `{"key":"${b("after")}","members":["${b("x")}"]}`],
    ]);
  });

  it("splits a sorted set too large for one Kafka record over several snapshot records, every member once", async () => {
    await redis.cli("flushall");
    const members = 15_000;
    const customer = (index: number) =>
      `{"customerName":"Large Set ${index}","email":"large.set.${index}@test.com","phone":"8015551212","birthDay":"1950-01-01"}`;
    const client = await createRedisClient(parseRedisUrl(redis.url));
    try {
      for (let from = 0; from < members; from += 500) {
        await client.pipeline(
          Array.from({ length: 500 }, (_, offset) => ["ZADD", "Customer", "0", customer(from + offset)]),
        );
      }
    } finally {
      await client.close();
    }
    const { topic, flags } = await sourceFlags("rs-large-snapshot");
    const result = await runStedi([...flags, "--snapshot", "--exit-on-idle", "2000"], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/snapshot of 1 keys in \d+ records \(large keys split\)/);
    const records = (await readAll(topic)).filter((record) => record.key === datatype("KeyStringValueZSet"));
    expect(records.length).toBeGreaterThan(1);
    const published = records.flatMap((record) => {
      expect(Buffer.byteLength(record.value)).toBeLessThan(1_000_000);
      return (JSON.parse(record.value).value as { element: string }[]).map((entry) =>
        Buffer.from(entry.element, "base64").toString(),
      );
    });
    expect(published).toHaveLength(members);
    expect(new Set(published)).toEqual(
      new Set(Array.from({ length: members }, (_, index) => customer(index))),
    );
  });

  it("loses and repeats nothing when killed mid-stream and restarted while writes go on", async () => {
    await redis.cli("flushall");
    const { topic, flags } = await sourceFlags("rs-restart");
    const total = 3000;
    const first = startStedi(flags);
    await first.waitFor("publishing writes from now on");
    let written = 0;
    const writer = (async () => {
      const writerClient = await createRedisClient(parseRedisUrl(redis.url));
      try {
        while (written < total) {
          const batch = Array.from({ length: 25 }, (_, index) => [
            "ZADD",
            "Customer",
            "0",
            `member-${written + index}`,
          ]);
          await writerClient.pipeline(batch);
          written += batch.length;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        await writerClient.close();
      }
    })();
    while (written < total / 3) await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill("SIGKILL");
    expect((await first.finished).signal).toBe("SIGKILL");
    const killedAt = written;

    const second = startStedi([...flags, "--exit-on-idle", "2500"]);
    await writer;
    const result = await second.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(killedAt).toBeLessThan(total);
    expect(result.stderr).toMatch(/continuing after [0-9a-f]{40}:\d+/);
    // A committed transaction becomes visible once its markers are written, just after the commit returns.
    await vi.waitFor(
      async () => {
        const members = (await readAll(topic))
          .filter((record) => record.key === impl("ZAddCommand"))
          .map((record) => Buffer.from(JSON.parse(record.value).zSetEntries[0].element, "base64").toString());
        expect(members).toEqual(Array.from({ length: total }, (_, index) => `member-${index}`));
      },
      { timeout: 10_000, interval: 250 },
    );
    expect((await port.topicConfigs(`${topic}-offsets`)).get("cleanup.policy")).toBe("compact");
  });

  it("finishes the transaction and exits 0 on SIGTERM", async () => {
    await redis.cli("flushall");
    const { topic, flags } = await sourceFlags("rs-sigterm");
    const running = startStedi(flags);
    await running.waitFor("publishing writes from now on");
    await client.pipeline(Array.from({ length: 200 }, (_, index) => ["SADD", "s", `m${index}`]));
    running.child.kill("SIGTERM");
    const result = await running.finished;
    expect(result.code, result.stderr).toBe(0);
    await vi.waitFor(
      async () =>
        expect((await readAll(topic)).filter((record) => record.key === impl("SAddCommand"))).toHaveLength(
          200,
        ),
      { timeout: 10_000, interval: 250 },
    );
  });

  it("survives a Redis restart: says so, publishes a snapshot of what Redis holds, then its new writes", async () => {
    const own = await startPrivateRedis();
    try {
      const { topic, flags } = await sourceFlags("rs-redis-restart", own.url);
      const running = startStedi(flags);
      await running.waitFor("publishing writes from now on");
      await own.cli("zadd", "Customer", "0", "c1");
      await retry(() => own.cli("save")); // what the restarted Redis will hold (retried while the sync's fork ends)
      await own.cli("zadd", "Customer", "0", "c2"); // published, then lost by Redis itself
      await waitForCount(topic, 3);
      await own.kill();
      await running.waitFor(/lost redis:\/\/127\.0\.0\.1:\d+/);
      await own.restart();
      await running.waitFor("snapshot of 1 keys", 20_000);
      await own.cli("zadd", "Customer", "0", "c3");
      await waitForCount(topic, 6);
      running.child.kill("SIGTERM");
      const result = await running.finished;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(
        /Redis cannot continue after [0-9a-f]{40}:\d+ \(full resync at [0-9a-f]{40}:\d+\)/,
      );
      expect(pairs(await readAll(topic))).toEqual([
        select(0),
        plainZadd("Customer", "c1"),
        plainZadd("Customer", "c2"),
        [
          datatype("KeyStringValueZSet"),
          `{"db":{"dbNumber":0,"dbsize":1,"expires":0},"valueRdbType":17,"expiredType":"NONE","expiredValue":null,"evictType":"NONE","evictValue":null,"key":"${b("Customer")}","value":[{"element":"${b("c1")}","score":0.0}],"expiredSeconds":null,"expiredMs":null}`,
        ],
        select(0),
        plainZadd("Customer", "c3"),
      ]);
    } finally {
      await own.stop();
    }
  });

  it("authenticates with the password in the URL and never prints it", async () => {
    const locked = await startPrivateRedis({ password: "s3cret-pw" });
    try {
      const { topic, flags } = await sourceFlags("rs-auth", locked.url);
      const running = startStedi([...flags, "--exit-on-idle", "2000"]);
      await running.waitFor("publishing writes from now on");
      await locked.cli("zadd", "Customer", "0", samTest);
      const result = await running.finished;
      expect(result.code, result.stderr).toBe(0);
      expect(pairs(await readAll(topic))).toEqual([select(0), [impl("ZAddCommand"), fixture()]]);
      expect(result.stderr).not.toContain("s3cret-pw");
      const wrong = await runStedi([...flags, "--redis", `redis://:wrong@127.0.0.1:${locked.port}`]);
      expect(wrong.code).toBe(3);
      expect(wrong.stderr.trim().split("\n"), wrong.stderr).toHaveLength(1);
      expect(wrong.stderr).toContain("Redis refused AUTH: WRONGPASS");
      expect(wrong.stderr).not.toContain("wrong@");
    } finally {
      await locked.stop();
    }
  });

  it("fails with one line and exit 3 when Redis or Kafka cannot be reached", async () => {
    const topic = await freshTopic("rs-unreachable");
    const noRedis = await runStedi([
      "redis-source",
      "--redis-topic",
      topic,
      "--redis",
      "redis://:hunter2@127.0.0.1:9",
    ]);
    expect(noRedis.code).toBe(3);
    expect(noRedis.stderr.trim().split("\n"), noRedis.stderr).toHaveLength(1);
    expect(noRedis.stderr).toContain("cannot reach Redis at redis://127.0.0.1:9");
    expect(noRedis.stderr).not.toContain("hunter2");
    const noKafka = await runStedi(["redis-source", "--brokers", "127.0.0.1:9", "--connect-timeout", "1500"]);
    expect(noKafka.code).toBe(3);
    expect(noKafka.stderr.trim().split("\n"), noKafka.stderr).toHaveLength(1);
    expect(noKafka.stderr).toContain("cannot reach Kafka at 127.0.0.1:9 within 1.5 s");
  });
});

async function retry<T>(work: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function waitForCount(topic: string, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readAll(topic)).length < count) {
    if (Date.now() > deadline) throw new Error(`${topic} did not reach ${count} records`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
