// What a transactional writer did, or could not do, about transactions of its id left open on
// partitions when it started: lines for the operator.

import type { TransactionalWriter } from "../adapters/kafka/index.js";

export function writerStartNotices(
  who: string,
  writer: Pick<TransactionalWriter, "abortedAtStart" | "uncheckedAtStart">,
): { aborted: string[]; unchecked: string[] } {
  return {
    aborted: writer.abortedAtStart.map(
      ({ topic, partition, firstOffset }) =>
        `${who}: aborted a transaction of its own left open on ${topic}-${partition} since offset ${firstOffset} ` +
        "(the broker had ended it without marking that partition)",
    ),
    unchecked: writer.uncheckedAtStart.map(
      (line) => `${who}: could not look for transactions of its own left open on ${line}`,
    ),
  };
}
