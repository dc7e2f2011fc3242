// The STEDI app's simulated seniors (contracts §4) as a deterministic state machine: a seeded
// random generator and the caller's clock in, customers, rapid step tests and risk events out.

import { formatJavaDouble } from "../formats/java-double.js";
import { computeRiskScore, type TimedTest } from "../risk-events/risk-score.js";

export type SimCustomer = {
  customerName: string;
  email: string;
  phone: string;
  birthDay: string;
};

export type StepTest = {
  startTime: number;
  stopTime: number;
  testTime: number;
  totalSteps: number;
  customer: SimCustomer;
};

/** A `stedi-events` value (contracts §2): the customer's email, a score in seconds, the risk date. */
export type RiskScoreEvent = { customer: string; score: number; riskDate: string };

/** The customer the original app creates at startup; it never takes tests. */
export const steadySenior: SimCustomer = {
  customerName: "Steady Senior",
  email: "steady@stedi.fit",
  phone: "8015551212",
  birthDay: "1901-01-01",
};

/** One activation of the original creates this many customers. */
export const customersPerActivation = 29;
export const newestBirthYear = 1965;

// The first and last names of the original generator, as seen in the real captures (every
// simulated `First.Last@test.com` there uses exactly these). The original list holds Jones twice,
// and the captures show Jones about twice as often as any other last name: so does this one.
export const firstNames: readonly string[] = [
  "Angie",
  "Ashley",
  "Ben",
  "Bobby",
  "Chris",
  "Christina",
  "Craig",
  "Dan",
  "Danny",
  "David",
  "Edward",
  "Eric",
  "Frank",
  "Gail",
  "Jacob",
  "Jane",
  "Jason",
  "Jerry",
  "John",
  "Larry",
  "Lyn",
  "Neeraj",
  "Santosh",
  "Sarah",
  "Sean",
  "Senthil",
  "Spencer",
  "Suresh",
  "Travis",
  "Trevor",
];

export const lastNames: readonly string[] = [
  "Abram",
  "Ahmed",
  "Anandh",
  "Anderson",
  "Aristotle",
  "Clark",
  "Clayton",
  "Davis",
  "Doshi",
  "Fibonnaci",
  "Gonzalez",
  "Habschied",
  "Hansen",
  "Harris",
  "Howard",
  "Huey",
  "Jackson",
  "Jefferson",
  "Jones",
  "Jones",
  "Khatib",
  "Lincoln",
  "Mitra",
  "Olson",
  "Phillips",
  "Sanchez",
  "Smith",
  "Spencer",
  "Staples",
  "Wu",
];

/** A small seeded generator (a Weyl sequence through a 32-bit avalanche mix): same seed, same draws. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next 32-bit unsigned value. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let mixed = this.state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    return (mixed ^ (mixed >>> 16)) >>> 0;
  }

  /** Uniform in [0, bound), like Java's Random.nextInt(bound); unbiased (rejects the short tail). */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0 || bound > 2 ** 32) {
      throw new RangeError(`bound must be a whole number in 1..2^32, got ${bound}`);
    }
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      const draw = this.nextUint32();
      if (draw < limit) return draw % bound;
    }
  }
}

/** A `--seed` as a 32-bit seed: whole numbers below 2^32 as they are, any other text hashed (FNV-1a). */
export function seedFromText(text: string): number {
  if (/^\d+$/.test(text) && Number(text) < 2 ** 32) return Number(text);
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** Birth year of the i-th customer (0-based): 1965 down to 1937, then round again from 1965. */
export const birthYearOf = (index: number): number => newestBirthYear - (index % customersPerActivation);

const customerNamed = (name: string, birthYear: number): SimCustomer => ({
  customerName: name,
  email: `${name.replace(" ", ".")}@test.com`,
  phone: "8015551212",
  birthDay: `${birthYear}-01-01`,
});

/** Draws before a name that keeps colliding gets a numeric suffix instead. */
const namingAttempts = 20;

/**
 * Creates `count` customers in the original's style, in creation order: `First Last`,
 * `First.Last@test.com`, birth years per `birthYearOf`. Every email is new: not in `taken` (e.g.
 * emails already in Redis from earlier activations) and not repeated within the call. A name is
 * drawn again when its email is taken; after 20 collisions (the 870 names are running out) the last
 * draw gets the smallest free suffix: `Sarah Jones2`, `Sarah.Jones2@test.com`.
 */
export function generateCustomers(
  count: number,
  rng: Rng,
  taken: ReadonlySet<string> = new Set(),
): SimCustomer[] {
  const used = new Set(taken);
  const customers: SimCustomer[] = [];
  for (let index = 0; index < count; index += 1) {
    let name = "";
    for (let attempt = 0; attempt < namingAttempts; attempt += 1) {
      name = `${firstNames[rng.nextInt(firstNames.length)]} ${lastNames[rng.nextInt(lastNames.length)]}`;
      if (!used.has(customerNamed(name, 0).email)) break;
    }
    let candidate = name;
    for (let suffix = 2; used.has(customerNamed(candidate, 0).email); suffix += 1)
      candidate = `${name}${suffix}`;
    const customer = customerNamed(candidate, birthYearOf(index));
    used.add(customer.email);
    customers.push(customer);
  }
  return customers;
}

/** The email of a `Customer` sorted-set member, or undefined when the member is not a customer. */
export function emailOfMember(member: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(member);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const email = (parsed as { email?: unknown }).email;
    return typeof email === "string" && email !== "" ? email : undefined;
  } catch {
    return undefined;
  }
}

const birthYearOfCustomer = (customer: SimCustomer) => Number(customer.birthDay.slice(0, 4));

/**
 * The next test duration in ms (whole seconds, as the original): a customer's first test takes
 * 120 − U[0,59] s; afterwards those born 1950–1960 steadily decline (previous + U[0,3] s) while
 * everyone else takes a fresh 120 − U[0,59] s.
 */
export function nextTestTime(previous: number | undefined, birthYear: number, rng: Rng): number {
  if (previous !== undefined && birthYear >= 1950 && birthYear <= 1960)
    return previous + rng.nextInt(4) * 1000;
  return (120 - rng.nextInt(60)) * 1000;
}

// Gson (which wrote every original record) escapes HTML-sensitive characters and the JavaScript
// line separators that JSON.stringify leaves as they are.
const gsonEscapes = /[<>&='\u2028\u2029]/g;

/** A JSON string literal the way Gson's default writer spells it. */
export function gsonString(text: string): string {
  return JSON.stringify(text).replace(
    gsonEscapes,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `{"customerName","email","phone","birthDay"}` in the original's field order: a `Customer` member. */
export const encodeCustomer = (customer: SimCustomer): string =>
  `{"customerName":${gsonString(customer.customerName)},"email":${gsonString(customer.email)},"phone":${gsonString(customer.phone)},"birthDay":${gsonString(customer.birthDay)}}`;

/** `{"startTime","stopTime","testTime","totalSteps","customer"}` as the original: a `RapidStepTest` member. */
export const encodeStepTest = (test: StepTest): string =>
  `{"startTime":${test.startTime},"stopTime":${test.stopTime},"testTime":${test.testTime},"totalSteps":${test.totalSteps},"customer":${encodeCustomer(test.customer)}}`;

/**
 * `{"customer","score","riskDate"}` byte for byte as the original: the score as Java prints it
 * (at least one decimal: 7.0, -15.5, 0.01). The original held the score in a float; for any
 * 2-decimal score below 100 000 in magnitude Java prints the float and the double alike.
 */
export const encodeRiskEvent = (event: RiskScoreEvent): string =>
  `{"customer":${gsonString(event.customer)},"score":${formatJavaDouble(event.score)},"riskDate":${gsonString(event.riskDate)}}`;

export type RecordedTest = {
  test: StepTest;
  /** 1-based round the test belongs to; a round visits every customer once, in creation order. */
  round: number;
  /** 0-based position of the customer in the round. */
  index: number;
};

export type SimulationOptions = {
  seed: number;
  customers: number;
  /** Emails that must not be generated (already in Redis). */
  taken?: ReadonlySet<string>;
};

/**
 * Tests kept per customer for scoring (memory stays flat on long runs). The formula reads the 4
 * newest by startTime; a test 32 recordings old could only be among them if nearly all 31 later
 * tests had started before it, i.e. their durations outgrew 2 s per step of the clock: no pattern
 * of §4 does that beyond a vanishing chance.
 */
const historyLimit = 32;

/**
 * The simulated seniors of one activation. Rounds run back to back; each visits every customer in
 * creation order: `recordTest(now)` takes the next customer's test ending at `now` (the caller's
 * clock), and `riskEventFor(email)` scores that customer from the tests recorded so far.
 * Deterministic: the same seed, customer count, taken emails and clock values give the same output.
 */
export class Simulation {
  readonly customers: readonly SimCustomer[];
  private readonly rng: Rng;
  private readonly lastTestTime = new Map<string, number>();
  private readonly history = new Map<string, TimedTest[]>();
  private nextIndex = 0;
  private currentRound = 1;

  constructor(options: SimulationOptions) {
    if (!Number.isInteger(options.customers) || options.customers < 1) {
      throw new RangeError(`customers must be a positive whole number, got ${options.customers}`);
    }
    this.rng = new Rng(options.seed);
    this.customers = generateCustomers(options.customers, this.rng, options.taken);
  }

  /** The round the next test belongs to (1-based). */
  get round(): number {
    return this.currentRound;
  }

  /** Records the next customer's rapid step test, stopping at `now` (epoch ms; fractions dropped). */
  recordTest(now: number): RecordedTest {
    const index = this.nextIndex;
    const round = this.currentRound;
    const customer = this.customers[index] as SimCustomer;
    const testTime = nextTestTime(
      this.lastTestTime.get(customer.email),
      birthYearOfCustomer(customer),
      this.rng,
    );
    this.lastTestTime.set(customer.email, testTime);
    const stopTime = Math.floor(now);
    const test: StepTest = { startTime: stopTime - testTime, stopTime, testTime, totalSteps: 30, customer };
    const tests = this.history.get(customer.email) ?? [];
    tests.push({ startTime: test.startTime, stopTime: test.stopTime });
    if (tests.length > historyLimit) tests.shift();
    this.history.set(customer.email, tests);
    this.nextIndex = (index + 1) % this.customers.length;
    if (this.nextIndex === 0) this.currentRound += 1;
    return { test, round, index };
  }

  /** The customer's risk event from the tests recorded so far; undefined before the 4th test. */
  riskEventFor(email: string): RiskScoreEvent | undefined {
    const risk = computeRiskScore(this.history.get(email) ?? []);
    return risk && { customer: email, score: risk.score, riskDate: risk.riskDate };
  }
}
