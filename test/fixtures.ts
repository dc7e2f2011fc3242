// Inputs in the original formats, built the way the original producers write them.

import { readFileSync } from "node:fs";
import { dataPath } from "./data.js";

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** A `redis-server` record as the connector writes it for `ZADD key 0 member…`. */
export function connectorZadd(key: string, members: string[]): string {
  const entries = JSON.stringify(members.map((member) => ({ element: base64(member), score: 0 }))).replaceAll(
    '"score":0}',
    '"score":0.0}',
  );
  return `{"key":"${base64(key)}","existType":"NONE","ch":false,"incr":false,"zSetEntries":${entries},"zsetEntries":${entries}}`;
}

export const customerJson = (name: string, email: string, birthDay: string) =>
  JSON.stringify({ customerName: name, email, phone: "8015551212", birthDay });

export const riskEventJson = (email: string, score: string, riskDate = "2020-09-14T07:54:06.417Z") =>
  `{"customer":"${email}","score":${score},"riskDate":"${riskDate}"}`;

export const samTestRecord = () =>
  readFileSync(dataPath("fixtures", "redis-server", "zadd-customer-sam-test.json"), "utf8");
export const exampleRiskEvent = () =>
  readFileSync(dataPath("fixtures", "stedi-events", "example.json"), "utf8").trim();
