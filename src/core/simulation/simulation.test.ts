import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataPath } from "../../../test/data.js";
import { computeRiskScore } from "../risk-events/risk-score.js";
import {
  birthYearOf,
  emailOfMember,
  encodeCustomer,
  encodeRiskEvent,
  encodeStepTest,
  firstNames,
  generateCustomers,
  gsonString,
  lastNames,
  nextTestTime,
  Rng,
  type SimCustomer,
  Simulation,
  type StepTest,
  seedFromText,
  steadySenior,
} from "./simulation.js";

const lines = (...path: string[]) =>
  readFileSync(dataPath(...path), "utf8")
    .trim()
    .split("\n");
const glorian = (file: string) => lines("real-data", "runs", "glorian-2021-04-02", file);
const simulatedEmail = /^([A-Z][a-z]+)\.([A-Z][a-z]+)@test\.com$/;

/** Runs a simulation on a clock that advances 2 s per test, as the original's sleep does. */
function run(options: { seed: number; customers: number; rounds: number; start?: number }) {
  const simulation = new Simulation({ seed: options.seed, customers: options.customers });
  let now = options.start ?? Date.UTC(2021, 3, 2, 21, 36, 0);
  const tests: StepTest[] = [];
  const events: string[] = [];
  while (simulation.round <= options.rounds) {
    const { test } = simulation.recordTest(now);
    tests.push(test);
    now += 2000;
    const event = simulation.riskEventFor(test.customer.email);
    if (event) events.push(encodeRiskEvent(event));
  }
  return { simulation, tests, events };
}

describe("Rng", () => {
  it("draws the same sequence from the same seed and another from another seed", () => {
    const draws = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 8 }, () => rng.nextUint32());
    };
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
  });

  it("draws every value of a bound, and only those, about equally often", () => {
    const rng = new Rng(7);
    const counts = new Array<number>(60).fill(0);
    for (let draw = 0; draw < 60_000; draw += 1) {
      const value = rng.nextInt(60);
      counts[value] = (counts[value] ?? 0) + 1;
    }
    expect(counts).toHaveLength(60);
    for (const count of counts) expect(count).toBeGreaterThan(800);
    for (const count of counts) expect(count).toBeLessThan(1200);
  });

  it("refuses bounds it cannot draw from", () => {
    expect(() => new Rng(1).nextInt(0)).toThrow(RangeError);
    expect(() => new Rng(1).nextInt(1.5)).toThrow(RangeError);
  });
});

describe("seedFromText", () => {
  it("takes whole numbers as they are and hashes anything else to 32 bits", () => {
    expect(seedFromText("42")).toBe(42);
    expect(seedFromText("4294967295")).toBe(4294967295);
    expect(seedFromText("demo")).toBe(seedFromText("demo"));
    expect(seedFromText("demo")).not.toBe(seedFromText("demp"));
    expect(seedFromText("4294967296")).toBeLessThan(2 ** 32);
    expect(Number.isInteger(seedFromText(""))).toBe(true);
  });
});

describe("generateCustomers", () => {
  it("creates 29 customers born 1965 down to 1937, First.Last@test.com, in the original's JSON", () => {
    const customers = generateCustomers(29, new Rng(42));
    expect(customers.map((customer) => customer.birthDay)).toEqual(
      Array.from({ length: 29 }, (_, index) => `${1965 - index}-01-01`),
    );
    expect(new Set(customers.map((customer) => customer.email)).size).toBe(29);
    for (const customer of customers) {
      const [, first = "", last = ""] = simulatedEmail.exec(customer.email) ?? [];
      expect(firstNames).toContain(first);
      expect(lastNames).toContain(last);
      expect(customer.customerName).toBe(`${first} ${last}`);
      expect(encodeCustomer(customer)).toBe(
        `{"customerName":"${first} ${last}","email":"${first}.${last}@test.com","phone":"8015551212","birthDay":"${customer.birthDay}"}`,
      );
    }
  });

  it("continues past 29 by starting the birth years again at 1965, every email still new", () => {
    expect([0, 28, 29, 57, 58].map(birthYearOf)).toEqual([1965, 1937, 1965, 1937, 1965]);
    const customers = generateCustomers(2000, new Rng(1));
    expect(customers[29]?.birthDay).toBe("1965-01-01");
    expect(new Set(customers.map((customer) => customer.email)).size).toBe(2000);
    // 30 first names × 29 last names: past 870 the names run out and a suffix keeps emails apart.
    const suffixed = customers.filter((customer) => !simulatedEmail.test(customer.email));
    expect(suffixed.length).toBeGreaterThanOrEqual(2000 - 870);
    for (const customer of suffixed) {
      expect(customer.email).toMatch(/^[A-Z][a-z]+\.[A-Z][a-z]+\d+@test\.com$/);
      expect(customer.email).toBe(`${customer.customerName.replace(" ", ".")}@test.com`);
    }
  });

  it("never reuses an email that is already taken (customers of earlier activations)", () => {
    const first = generateCustomers(29, new Rng(5));
    const taken = new Set(first.map((customer) => customer.email));
    const second = generateCustomers(29, new Rng(5), taken);
    for (const customer of second) expect(taken.has(customer.email)).toBe(false);
  });

  it("uses exactly the names of the original generator seen in the real captures", () => {
    const text = [
      ...lines("real-data", "redis-dump-members.jsonl"),
      ...lines("real-data", "stedi-events.jsonl"),
      ...lines("real-data", "stedi-graph.jsonl"),
      ...glorian("customer-members.jsonl"),
      ...glorian("stedi-events.jsonl"),
    ].join("\n");
    const seenFirst = new Set<string>();
    const seenLast = new Set<string>();
    for (const [, first = "", last = ""] of text.matchAll(/"([A-Z][a-z]+)\.([A-Z][a-z]+)@test\.com"/g)) {
      seenFirst.add(first);
      seenLast.add(last);
    }
    expect([...seenFirst].sort()).toEqual([...new Set(firstNames)].sort());
    expect([...seenLast].sort()).toEqual([...new Set(lastNames)].sort());
  });
});

describe("emailOfMember", () => {
  it("reads the email of a customer member and ignores anything else", () => {
    expect(emailOfMember(encodeCustomer(steadySenior))).toBe("steady@stedi.fit");
    expect(emailOfMember("not json")).toBeUndefined();
    expect(emailOfMember('{"customerName":"No Mail"}')).toBeUndefined();
    expect(emailOfMember("null")).toBeUndefined();
  });
});

describe("nextTestTime", () => {
  it("takes whole seconds: fresh 61–120 s, and a steady decline for seniors born 1950–1960", () => {
    const rng = new Rng(3);
    for (let draw = 0; draw < 500; draw += 1) {
      const fresh = nextTestTime(undefined, 1955, rng);
      expect(fresh % 1000).toBe(0);
      expect(fresh).toBeGreaterThanOrEqual(61_000);
      expect(fresh).toBeLessThanOrEqual(120_000);
      const other = nextTestTime(fresh, 1961, rng);
      expect(other).toBeGreaterThanOrEqual(61_000);
      expect(other).toBeLessThanOrEqual(120_000);
      for (const year of [1950, 1960]) {
        const decline = nextTestTime(fresh, year, rng) - fresh;
        expect([0, 1000, 2000, 3000]).toContain(decline);
      }
    }
  });
});

describe("Simulation", () => {
  it("is reproducible: the same seed and clock give the same customers, tests and events", () => {
    const first = run({ seed: 42, customers: 5, rounds: 6 });
    const second = run({ seed: 42, customers: 5, rounds: 6 });
    expect(second.tests.map(encodeStepTest)).toEqual(first.tests.map(encodeStepTest));
    expect(second.events).toEqual(first.events);
    const other = run({ seed: 43, customers: 5, rounds: 6 });
    expect(other.tests.map(encodeStepTest)).not.toEqual(first.tests.map(encodeStepTest));
  });

  it("visits every customer once per round in creation order and scores from the 4th test on", () => {
    const { simulation, tests, events } = run({ seed: 9, customers: 29, rounds: 5 });
    expect(tests).toHaveLength(29 * 5);
    expect(tests.slice(0, 29).map((test) => test.customer)).toEqual(simulation.customers);
    expect(tests.slice(29, 58).map((test) => test.customer)).toEqual(simulation.customers);
    // Rounds 1–3 give no score; rounds 4 and 5 one per customer.
    expect(events).toHaveLength(29 * 2);
    expect(events.slice(0, 29).map((event) => JSON.parse(event).customer)).toEqual(
      simulation.customers.map((customer) => customer.email),
    );
  });

  it("records tests in the original's JSON, stopping at the clock and starting testTime before", () => {
    const simulation = new Simulation({ seed: 11, customers: 2 });
    const recorded = simulation.recordTest(1626899947234.7);
    expect(recorded).toMatchObject({ round: 1, index: 0 });
    const { test } = recorded;
    expect(test.stopTime).toBe(1626899947234);
    expect(test.startTime).toBe(test.stopTime - test.testTime);
    expect(encodeStepTest(test)).toBe(
      `{"startTime":${test.startTime},"stopTime":1626899947234,"testTime":${test.testTime},"totalSteps":30,"customer":${encodeCustomer(test.customer)}}`,
    );
    expect(simulation.recordTest(0)).toMatchObject({ round: 1, index: 1 });
    expect(simulation.round).toBe(2);
  });

  it("publishes exactly the formula over the tests recorded for the customer", () => {
    const { tests, events } = run({ seed: 2024, customers: 3, rounds: 8 });
    const expected: string[] = [];
    const seen = new Map<string, StepTest[]>();
    for (const test of tests) {
      const history = [...(seen.get(test.customer.email) ?? []), test];
      seen.set(test.customer.email, history);
      const risk = computeRiskScore(history);
      if (risk) expected.push(encodeRiskEvent({ customer: test.customer.email, ...risk }));
    }
    expect(events).toEqual(expected);
  });

  it("writes events byte for byte as the original", () => {
    expect(
      encodeRiskEvent({ customer: "Dan.Ahmed@test.com", score: -4, riskDate: "2021-04-02T21:39:28.650Z" }),
    ).toBe('{"customer":"Dan.Ahmed@test.com","score":-4.0,"riskDate":"2021-04-02T21:39:28.650Z"}');
    expect(encodeRiskEvent({ customer: "a@b.c", score: 0.01, riskDate: "x" })).toBe(
      '{"customer":"a@b.c","score":0.01,"riskDate":"x"}',
    );
    expect(gsonString("<a href='x'>&=\u2028")).toBe(
      '"\\u003ca href\\u003d\\u0027x\\u0027\\u003e\\u0026\\u003d\\u2028"',
    );
  });
});

describe("against the real captures", () => {
  it("re-encodes every real risk event byte for byte", () => {
    for (const line of [...lines("real-data", "stedi-events.jsonl"), ...glorian("stedi-events.jsonl")]) {
      const { customer, score, riskDate } = JSON.parse(line) as {
        customer: string;
        score: number;
        riskDate: string;
      };
      expect(encodeRiskEvent({ customer, score, riskDate })).toBe(line);
    }
  });

  it("re-encodes the real simulated customers and rapid step tests byte for byte", () => {
    for (const line of glorian("customer-members.jsonl")) {
      expect(encodeCustomer(JSON.parse(line) as SimCustomer)).toBe(line);
    }
    const members = lines("real-data", "redis-dump-members.jsonl").map(
      (line) => JSON.parse(line) as { key: string; member: string },
    );
    const simulatedTests = members
      .filter((entry) => entry.key === "RapidStepTest" && !entry.member.includes('"token"'))
      .map((entry) => entry.member);
    expect(simulatedTests.length).toBeGreaterThanOrEqual(5);
    for (const member of simulatedTests) {
      const test = JSON.parse(member) as StepTest;
      expect(encodeStepTest(test)).toBe(member);
      // The simulator's durations are whole seconds from 61 s up (steady decliners grow past 120 s).
      expect(test.testTime % 1000).toBe(0);
      expect(test.stopTime - test.startTime).toBe(test.testTime);
      expect(simulatedEmail.test(test.customer.email)).toBe(true);
    }
  });

  it("matches the real run: Steady Senior plus 29 customers born 1965–1937, visited youngest first", () => {
    const customers = glorian("customer-members.jsonl").map((line) => JSON.parse(line) as SimCustomer);
    expect(customers).toContainEqual(steadySenior);
    const simulated = customers.filter((customer) => customer.email !== steadySenior.email);
    expect(
      simulated
        .map((customer) => customer.birthDay)
        .sort()
        .reverse(),
    ).toEqual(generateCustomers(29, new Rng(0)).map((customer) => customer.birthDay));
    const yearOf = new Map(simulated.map((customer) => [customer.email, customer.birthDay.slice(0, 4)]));
    const firstRound = glorian("stedi-events.jsonl")
      .slice(0, 29)
      .map((line) => yearOf.get((JSON.parse(line) as { customer: string }).customer));
    expect(firstRound).toEqual(Array.from({ length: 29 }, (_, index) => String(1965 - index)));
  });

  it("gives scores in the same ranges as the real run: half seconds, and no improvement for 1950–1960", () => {
    const yearOf = new Map(
      glorian("customer-members.jsonl").map((line) => {
        const customer = JSON.parse(line) as SimCustomer;
        return [customer.email, Number(customer.birthDay.slice(0, 4))];
      }),
    );
    const check = (events: string[]) => {
      for (const line of events) {
        const { customer, score } = JSON.parse(line) as { customer: string; score: number };
        const year = yearOf.get(customer) ?? Number.NaN;
        expect(Number.isInteger(score * 2), line).toBe(true);
        if (year >= 1950 && year <= 1960) {
          expect(score, line).toBeGreaterThanOrEqual(-6);
          expect(score, line).toBeLessThanOrEqual(0);
        } else {
          expect(Math.abs(score), line).toBeLessThanOrEqual(59);
        }
      }
    };
    check(glorian("stedi-events.jsonl"));
    const simulated = run({ seed: 77, customers: 29, rounds: 15 });
    for (const customer of simulated.simulation.customers)
      yearOf.set(customer.email, Number(customer.birthDay.slice(0, 4)));
    expect(simulated.events).toHaveLength(29 * 12);
    check(simulated.events);
  });
});
