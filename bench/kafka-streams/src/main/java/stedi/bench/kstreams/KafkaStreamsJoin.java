package stedi.bench.kstreams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * The Kafka Streams peer of the bench: runs {@link JoinTopology} until SIGTERM, then closes cleanly.
 * Started by bench/harness/kafka-streams.ts after bench/kafka-streams/setup.sh.
 *
 * <p>Lines on stdout starting with "stedi-kstreams " are for the harness:
 * {@code loading-customers <epoch-ms>} when the global store starts filling from the customer topic,
 * {@code customers-loaded <epoch-ms>} once it holds the topic up to where it ended at start-up, {@code started <epoch-ms>} when the application first reaches RUNNING, {@code counts name=value…}
 * every second while they change and once more at the end, then {@code stopped <epoch-ms>}. Kafka's own
 * logging goes to stderr at WARN.
 */
public final class KafkaStreamsJoin {
    private static final Set<String> GUARANTEES =
        Set.of(StreamsConfig.EXACTLY_ONCE_V2, StreamsConfig.AT_LEAST_ONCE);
    private static final String USAGE = "usage: java -jar stedi-kafka-streams.jar --brokers host:port[,…]"
        + " --redis-topic T --events-topic T --output-topic T --application-id ID"
        + " --guarantee exactly_once_v2|at_least_once [--threads N]";

    private KafkaStreamsJoin() {}

    record Arguments(
        String brokers,
        String redisTopic,
        String eventsTopic,
        String outputTopic,
        String applicationId,
        String guarantee,
        int threads) {

        /** Throws IllegalArgumentException with a one-line reason. */
        static Arguments parse(String[] args) {
            Map<String, String> values = new HashMap<>();
            for (int i = 0; i < args.length; i += 2) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
                }
                values.put(args[i].substring(2), args[i + 1]);
            }
            String guarantee = required(values, "guarantee");
            if (!GUARANTEES.contains(guarantee)) {
                throw new IllegalArgumentException("--guarantee takes " + String.join(" or ", GUARANTEES));
            }
            int threads = Integer.parseInt(values.getOrDefault("threads", "1"));
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1");
            return new Arguments(
                required(values, "brokers"),
                required(values, "redis-topic"),
                required(values, "events-topic"),
                required(values, "output-topic"),
                required(values, "application-id"),
                guarantee,
                threads);
        }

        private static String required(Map<String, String> values, String name) {
            String value = values.get(name);
            if (value == null || value.isEmpty()) throw new IllegalArgumentException("--" + name + " is required");
            return value;
        }
    }

    /**
     * The configuration, chosen for throughput on a small machine; everything not named keeps Kafka Streams'
     * defaults. What stays default on purpose:
     * commit.interval.ms: 100 ms under exactly_once_v2 (a transaction per thread every 100 ms; longer ones
     * would batch more but hold outputs back from read_committed readers longer), 30 s under at_least_once
     * (it only paces offset commits there; outputs are visible once written);
     * linger.ms: Kafka Streams' own 100 ms, which the output rate fills long before it runs out;
     * max.poll.records: Kafka Streams' own 1000.
     */
    static Properties config(Arguments arguments, Path stateDir) {
        Properties props = new Properties();
        // The consumer group, and the prefix of transactional ids: the harness gives a fresh one per run, so
        // nothing is resumed from an earlier run's committed offsets.
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, arguments.applicationId());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, arguments.brokers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, arguments.guarantee());
        // One thread per input partition gives each its own task; the harness passes no more than there are
        // cores, as the global thread, the clients' network threads and the broker share them.
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, arguments.threads());
        // In-memory stores write nothing here; a scratch folder keeps runs apart and is deleted at the end.
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        // Nothing in this topology is cached: the global store is built without caching and the event side
        // has no store, so a record cache would only hold memory.
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // Kafka Streams' default too; stated because a fresh group must read the pre-loaded events.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // Output records are about 110 bytes: 16 KiB batches (the default) would mean a request per ~150
        // records per partition. 256 KiB batches cut the requests at full speed and cost nothing when idle.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
        // Kafka 5's default, asked for now (Kafka Streams warns at start without it). No handler is
        // configured, so an exception in the global store's processor still stops the application.
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        return props;
    }

    private static void report(String line) {
        System.out.println("stedi-kstreams " + line);
        System.out.flush();
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException gone) {
            // Best effort: the folder is under the system's temp directory.
        }
    }

    public static void main(String[] args) throws Exception {
        Arguments arguments;
        try {
            arguments = Arguments.parse(args);
        } catch (IllegalArgumentException invalid) {
            System.err.println(invalid.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        Path stateDir = Files.createTempDirectory("stedi-kstreams-");
        JoinCounts counts = new JoinCounts();
        KafkaStreams streams = new KafkaStreams(
            JoinTopology.build(arguments.redisTopic(), arguments.eventsTopic(), arguments.outputTopic(), counts),
            config(arguments, stateDir));

        CountDownLatch failed = new CountDownLatch(1);
        AtomicBoolean running = new AtomicBoolean();
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING && running.compareAndSet(false, true)) {
                report("started " + System.currentTimeMillis());
            }
            if (now == KafkaStreams.State.ERROR) failed.countDown();
        });
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
            @Override
            public void onRestoreStart(TopicPartition partition, String store, long from, long to) {
                report("loading-customers " + System.currentTimeMillis());
            }

            @Override
            public void onBatchRestored(TopicPartition partition, String store, long offset, long restored) {}

            @Override
            public void onRestoreEnd(TopicPartition partition, String store, long restored) {
                report("customers-loaded " + System.currentTimeMillis());
            }
        });
        streams.setUncaughtExceptionHandler(error -> {
            System.err.println("stedi-kstreams: " + error);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });

        // The harness stops the run once every event is counted here and the output has settled.
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "stedi-kstreams-progress");
            thread.setDaemon(true);
            return thread;
        });
        String[] lastReported = {""};
        progress.scheduleAtFixedRate(() -> {
            String now = counts.describe();
            if (!now.equals(lastReported[0])) report("counts " + now);
            lastReported[0] = now;
        }, 1, 1, TimeUnit.SECONDS);

        AtomicBoolean closed = new AtomicBoolean();
        Runnable close = () -> {
            if (!closed.compareAndSet(false, true)) return;
            progress.shutdownNow();
            // Under exactly_once_v2 this commits the open transaction; what is still in flight after the
            // timeout is aborted and never seen by a read_committed reader.
            streams.close(Duration.ofSeconds(20));
            report("counts " + counts.describe());
            report("stopped " + System.currentTimeMillis());
            deleteTree(stateDir);
        };
        // SIGTERM and SIGINT run the shutdown hooks: the harness stops the join that way once it is done.
        Runtime.getRuntime().addShutdownHook(new Thread(close, "stedi-kstreams-close"));
        streams.start();
        failed.await();
        close.run();
        System.exit(1);
    }
}
