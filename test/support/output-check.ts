// An independent checker of the join's output: recomputes, from the raw inputs alone, the multiset of
// records stedi-graph must hold, and counts what is lost, duplicated or wrong. It shares no code with
// the join on purpose, so a bug in the join's decoders or state cannot hide itself here.

export type RawRecord = {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
};

export type CheckReport = {
  expected: number;
  actual: number;
  /** Expected records missing from the output. */
  lost: number;
  /** Output records beyond the expected count of the same record. */
  duplicated: number;
  /** Output records that match no expected record at all (wrong birth year, wrong score, garbage). */
  misrouted: number;
  /** Input records the checker considers unusable (they must be in the dead-letter topic). */
  bad: string[];
  examples: string[];
};

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fromBase64(text: unknown): string | undefined {
  if (typeof text !== "string" || !base64Pattern.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  const decoded = new TextDecoder("utf-8", { fatal: true });
  try {
    return decoded.decode(bytes);
  } catch {
    return undefined;
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function realDate(text: unknown): boolean {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const [year, month, day] = text.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(2000, month - 1, day));
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month === 2 && day === 29) return leap;
  return month >= 1 && month <= 12 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function javaDouble(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e7) return `${value}.0`;
  if (Math.abs(value) >= 1e-3 && Math.abs(value) < 1e7) return String(value);
  const [mantissa = "", exponent = "0"] = value.toExponential().split("e");
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

const where = (record: RawRecord) => `${record.topic}[${record.partition}]@${record.offset}`;

/** Adds the customers of connector records to `years`; every record that is not a usable Customer ZADD entry is noted. */
function readCustomers(records: RawRecord[], years: Map<string, string>, bad: string[]): void {
  for (const record of records) {
    const json = tryJson(record.value) as Record<string, unknown> | undefined;
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      bad.push(where(record));
      continue;
    }
    if (!("key" in json)) continue;
    const key = fromBase64(json.key);
    if (key === undefined) {
      bad.push(where(record));
      continue;
    }
    if (key !== "Customer") continue;
    const snapshotEntries = "valueRdbType" in json && Array.isArray(json.value) ? json.value : undefined;
    const entries = json.zSetEntries ?? json.zsetEntries ?? snapshotEntries;
    if (entries === undefined) continue;
    if (!Array.isArray(entries)) {
      bad.push(where(record));
      continue;
    }
    let allGood = true;
    for (const entry of entries as { element?: unknown }[]) {
      const member = fromBase64(entry?.element);
      const customer =
        member === undefined ? undefined : (tryJson(member) as Record<string, unknown> | undefined);
      const email = customer?.email;
      const birthDay = customer?.birthDay;
      if (typeof email !== "string" || email === "" || typeof birthDay !== "string" || !realDate(birthDay)) {
        allGood = false;
        continue;
      }
      years.set(email, birthDay.slice(0, 4));
    }
    if (!allGood) bad.push(where(record));
  }
}

export type JoinOutputChecker = {
  /** Customer records; all of them come before the first event. */
  addCustomers(records: RawRecord[]): void;
  /** Risk-event records; all of them come before the first output. */
  addEvents(records: RawRecord[]): void;
  addOutputs(records: RawRecord[]): void;
  report(): CheckReport;
};

/**
 * The checker fed in batches, for topics too large to hold whole: customers, then events, then the
 * output. Memory is one count per distinct expected output line.
 */
export function createJoinOutputChecker(): JoinOutputChecker {
  const bad: string[] = [];
  const years = new Map<string, string>();
  /** Expected minus seen, per output line: above 0 lost, below 0 duplicated. */
  const outstanding = new Map<string, number>();
  const unexpected = new Map<string, number>();
  let stage: "customers" | "events" | "outputs" = "customers";
  let expectedCount = 0;
  let actualCount = 0;
  const enter = (next: typeof stage) => {
    const order = ["customers", "events", "outputs"];
    if (order.indexOf(next) < order.indexOf(stage))
      throw new Error(`${next} after ${stage}: feed customers, events, outputs in that order`);
    stage = next;
  };
  return {
    addCustomers(records) {
      enter("customers");
      readCustomers(records, years, bad);
    },
    addEvents(records) {
      enter("events");
      for (const record of records) {
        const event = tryJson(record.value) as Record<string, unknown> | undefined;
        const email = event?.customer;
        const score = event?.score;
        const date = event?.riskDate;
        const dateOk =
          date === undefined ||
          (typeof date === "string" &&
            realDate(date.slice(0, 10)) &&
            !Number.isNaN(Date.parse(date)) &&
            /T\d{2}:\d{2}:\d{2}/.test(date));
        if (typeof email !== "string" || email === "" || typeof score !== "number" || !dateOk) {
          bad.push(where(record));
          continue;
        }
        const year = years.get(email);
        if (year === undefined) {
          bad.push(where(record));
          continue;
        }
        const line = `{"customer":${JSON.stringify(email)},"score":"${javaDouble(score)}","email":${JSON.stringify(email)},"birthYear":"${year}"}`;
        outstanding.set(line, (outstanding.get(line) ?? 0) + 1);
        expectedCount += 1;
      }
    },
    addOutputs(records) {
      enter("outputs");
      for (const record of records) {
        actualCount += 1;
        const left = outstanding.get(record.value);
        if (left === undefined) unexpected.set(record.value, (unexpected.get(record.value) ?? 0) + 1);
        else outstanding.set(record.value, left - 1);
      }
    },
    report() {
      let lost = 0;
      let duplicated = 0;
      let misrouted = 0;
      const examples: string[] = [];
      for (const [line, left] of outstanding) {
        if (left > 0) {
          lost += left;
          if (examples.length < 5) examples.push(`lost ${left}× ${line}`);
        }
        if (left < 0) {
          duplicated -= left;
          if (examples.length < 5) examples.push(`duplicated ${-left}× ${line}`);
        }
      }
      for (const [line, count] of unexpected) {
        misrouted += count;
        if (examples.length < 5) examples.push(`unexpected ${count}× ${line}`);
      }
      return {
        expected: expectedCount,
        actual: actualCount,
        lost,
        duplicated,
        misrouted,
        bad: [...bad],
        examples,
      };
    },
  };
}

/**
 * Compares the output topic with what the inputs call for. Assumes every customer is final (no
 * customer changes its birth year during the run), which is how the fault scenarios are built.
 */
export function checkJoinOutput(input: {
  customers: RawRecord[];
  events: RawRecord[];
  output: RawRecord[];
}): CheckReport {
  const checker = createJoinOutputChecker();
  checker.addCustomers(input.customers);
  checker.addEvents(input.events);
  checker.addOutputs(input.output);
  return checker.report();
}
