package stedi.bench.kstreams;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The customer/risk join as Kafka Streams does it fastest: customers in a global store (email → birth year)
 * that every instance holds whole, so risk events are joined in the task that reads them, with no
 * repartition topic and no changelog.
 */
final class JoinTopology {
    static final String CUSTOMER_STORE = "customer-birth-years";

    private JoinTopology() {}

    static Topology build(String redisTopic, String eventsTopic, String outputTopic, JoinCounts counts) {
        StreamsBuilder builder = new StreamsBuilder();
        // In memory, as stedi keeps its table: a fresh application restores it from the source topic at every
        // start anyway, and a global store never has a changelog (its source topic is its log).
        builder.addGlobalStore(
            Stores.keyValueStoreBuilder(
                    Stores.inMemoryKeyValueStore(CUSTOMER_STORE), Serdes.String(), Serdes.String())
                .withLoggingDisabled(),
            redisTopic,
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()),
            () -> new CustomerStoreUpdater(counts));
        builder.stream(eventsTopic, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
            .process(() -> new RiskEventJoiner(counts))
            .to(outputTopic, Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    /**
     * Keeps the global store up to date from `redis-server` records. Since Kafka 3.8 it also runs while the
     * store is bootstrapped from the topic at start-up, but that pass skips records with a null key: the
     * connector keys every record with its command's class name, and the bench does too when Kafka Streams runs.
     */
    static final class CustomerStoreUpdater implements Processor<byte[], byte[], Void, Void> {
        private final JoinCounts counts;
        private KeyValueStore<String, String> birthYears;

        CustomerStoreUpdater(JoinCounts counts) {
            this.counts = counts;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            birthYears = context.getStateStore(CUSTOMER_STORE);
        }

        @Override
        public void process(Record<byte[], byte[]> record) {
            ConnectorRecords.Decoded decoded = ConnectorRecords.decode(record.value());
            switch (decoded.kind()) {
                case SKIPPED -> counts.connectorRecordsSkipped.increment();
                case REJECTED -> counts.connectorRecordsRejected.increment();
                case CUSTOMERS -> {
                    // Later entries and later records win, as in stedi's table.
                    for (ConnectorRecords.Customer customer : decoded.customers()) {
                        birthYears.put(customer.email(), customer.birthYear());
                    }
                    counts.customersStored.add(decoded.customers().size());
                }
            }
            counts.customerEntriesRejected.add(decoded.rejectedEntries());
        }
    }

    /**
     * Joins each risk event with the customer's birth year, keyed by email as stedi keys its output.
     *
     * <p>An event whose customer is not in the store is counted and dropped: a Kafka Streams lookup join
     * (like KStream-GlobalKTable) sees the table as it is when the event is processed and has no notion of a
     * customer arriving late, so the event is lost (an inner join) or joined with nothing (a left join).
     * stedi holds such events until their customer arrives. The bench loads every customer first, and the
     * global store is bootstrapped to the end of its topic before any event is processed, so no bench event
     * should be dropped.
     */
    static final class RiskEventJoiner extends ContextualProcessor<byte[], byte[], String, String> {
        private final JoinCounts counts;
        private KeyValueStore<String, String> birthYears;

        RiskEventJoiner(JoinCounts counts) {
            this.counts = counts;
        }

        @Override
        public void init(ProcessorContext<String, String> context) {
            super.init(context);
            birthYears = context.getStateStore(CUSTOMER_STORE);
        }

        @Override
        public void process(Record<byte[], byte[]> record) {
            RiskEvents.RiskScore event = RiskEvents.decode(record.value());
            if (event == null) {
                counts.eventsRejected.increment();
                return;
            }
            String birthYear = birthYears.get(event.customer());
            if (birthYear == null) {
                counts.eventsWithoutCustomer.increment();
                return;
            }
            counts.eventsJoined.increment();
            // Stamped now, as stedi's producer stamps its records: Kafka Streams would otherwise carry the
            // event's own timestamp over, and the bench times the run by its outputs' timestamps.
            context().forward(new Record<>(
                event.customer(),
                GraphRecords.encode(event.customer(), event.score(), birthYear),
                System.currentTimeMillis()));
        }
    }
}
