import { describe, expect, it } from "vitest";
import { servicesDown } from "./stack.js";

describe("servicesDown", () => {
  const line = {
    kafkaOurs:
      "kafka  up        port 9092  pid 41  started by stack.sh (sasl 9094, tls 9095, controller 9093)",
    kafkaExternal: "kafka  up        port 9092  pid -  external (not started by stack.sh)",
    kafkaStarting: "kafka  starting  port 9092  pid 41  started by stack.sh",
    kafkaDown: "kafka  down      port 9092",
    redisUp: "redis  up        port 6379  pid 52  started by stack.sh",
    redisDown: "redis  down      port 6379",
  };

  it.each([
    ["ours, from an earlier stack:up", [line.kafkaOurs, line.redisDown], []],
    ["someone else's", [line.kafkaExternal], []],
    ["still starting (another stack.sh)", [line.kafkaStarting], []],
    ["down", [line.kafkaDown, line.redisUp], ["kafka"]],
    ["not reported at all", [line.redisUp], ["kafka"]],
  ])("a Kafka that is %s", (_what, lines, expected) => {
    expect(servicesDown(`${lines.join("\n")}\n`, ["kafka"])).toEqual(expected);
  });

  it("keeps the order asked for and only what was asked for", () => {
    const status = `${line.kafkaDown}\n${line.redisDown}\n`;
    expect(servicesDown(status, ["redis", "kafka"])).toEqual(["redis", "kafka"]);
    expect(servicesDown(status, [])).toEqual([]);
    expect(servicesDown(`${line.kafkaDown}\n${line.redisUp}\n`, ["kafka", "redis"])).toEqual(["kafka"]);
  });
});
