package stedi.bench.kstreams;

import java.util.concurrent.atomic.LongAdder;

/** What the join did with each record, added up across the global thread and the stream threads. */
final class JoinCounts {
    final LongAdder customersStored = new LongAdder();
    final LongAdder customerEntriesRejected = new LongAdder();
    final LongAdder connectorRecordsSkipped = new LongAdder();
    final LongAdder connectorRecordsRejected = new LongAdder();
    final LongAdder eventsJoined = new LongAdder();
    final LongAdder eventsWithoutCustomer = new LongAdder();
    final LongAdder eventsRejected = new LongAdder();

    /** The harness's line: {@code name=value} pairs, names as bench/harness/kafka-streams.ts reads them. */
    String describe() {
        return "joined=" + eventsJoined.sum()
            + " without-customer=" + eventsWithoutCustomer.sum()
            + " rejected-events=" + eventsRejected.sum()
            + " customers=" + customersStored.sum()
            + " rejected-customers=" + customerEntriesRejected.sum()
            + " rejected-records=" + connectorRecordsRejected.sum()
            + " skipped-records=" + connectorRecordsSkipped.sum();
    }
}
