package io.inferencefleet.benchmarks.chaos;

import io.inferencefleet.benchmarks.report.Flags;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The independent checker: a plain KafkaConsumer (no group, nothing committed, {@code
 * read_uncommitted}, or {@code read_committed} to check {@code delivery.guarantee=exactly-once}) that reads the requests topic and the results topic from the beginning and
 * counts results per request id. It shares no code with the worker or the project's client: it
 * parses the result JSON itself and needs only {@code id}, {@code status}, {@code error.code},
 * {@code workerId} and {@code source}.
 *
 * <p>How results are matched to requests and duplicates attributed: {@link ResultLedger}.
 *
 * <pre>{@code
 * try (ResultChecker checker = new ResultChecker("127.0.0.1:9092", "images", "predictions")) {
 *     checker.catchUp(Duration.ofSeconds(30));          // everything written so far
 *     ResultLedger.Tally tally = checker.tally(List.of());
 * }
 * }</pre>
 *
 * Standalone: {@code java -cp benchmarks.jar io.inferencefleet.benchmarks.chaos.ResultChecker
 * --bootstrap.servers=127.0.0.1:9092 --requests.topic=images --results.topic=predictions}.
 * Not thread-safe: one thread polls and tallies.
 */
public final class ResultChecker implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String requestsTopic;
    private final List<TopicPartition> partitions = new ArrayList<>();
    private final ResultLedger ledger = new ResultLedger();

    public ResultChecker(String bootstrapServers, String requestsTopic, String resultsTopic) {
        this(bootstrapServers, requestsTopic, resultsTopic, false);
    }

    /** @param readCommitted read only committed transactions' results (what exactly-once promises to such readers) */
    public ResultChecker(String bootstrapServers, String requestsTopic, String resultsTopic, boolean readCommitted) {
        this.requestsTopic = requestsTopic;
        this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        for (String topic : List.of(requestsTopic, resultsTopic)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                consumer.close();
                throw new IllegalStateException("topic " + topic + " does not exist");
            }
            infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** One poll; returns the number of records read. */
    int poll(Duration timeout) {
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
            n++;
            if (record.topic().equals(requestsTopic)) {
                ledger.addRequest(record.key(), record.value(), record.partition(), record.offset(), record.timestamp());
            } else {
                ledger.addResult(record.key(), record.value(), record.partition(), record.offset(), record.timestamp());
            }
        }
        return n;
    }

    /** Polls until both topics are read up to their end offsets as of this call; false on timeout. */
    boolean catchUp(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<TopicPartition, Long> end = null;
        while (System.nanoTime() < deadline) {
            try {
                if (end == null) {
                    end = consumer.endOffsets(partitions, Duration.ofSeconds(5));
                }
                boolean done = true;
                for (TopicPartition tp : partitions) {
                    done &= consumer.position(tp, Duration.ofSeconds(5)) >= end.get(tp);
                }
                if (done) {
                    return true;
                }
            } catch (TimeoutException e) {
                // broker away for a moment: try again until the deadline
            }
            poll(Duration.ofMillis(200));
        }
        return false;
    }

    int requests() {
        return ledger.requests();
    }

    int results() {
        return ledger.results();
    }

    int answered() {
        return ledger.answered();
    }

    List<Long> answerTimes(String prefix) {
        return ledger.answerTimes(prefix);
    }

    boolean answeredPublishedAfter(long publishedAfterMs) {
        return ledger.answeredPublishedAfter(publishedAfterMs);
    }

    long firstAnswerPublishedAfter(long publishedAfterMs) {
        return ledger.firstAnswerPublishedAfter(publishedAfterMs);
    }

    long allAnsweredPublishedBefore(long publishedBeforeMs) {
        return ledger.allAnsweredPublishedBefore(publishedBeforeMs);
    }

    int answersBetween(long fromMs, long toMs) {
        return ledger.answersBetween(fromMs, toMs);
    }

    ResultLedger.Tally tally(List<ResultLedger.Disruption> disruptions) {
        return ledger.tally(disruptions);
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }

    /** Checks a pair of topics on its own and prints the counts (exit code 1 when a request has no result). */
    public static void main(String[] args) {
        Flags flags = Flags.parse(args, List.of("bootstrap.servers", "requests.topic", "results.topic"),
                Map.of("read.committed", "false"));
        try (ResultChecker checker = new ResultChecker(flags.get("bootstrap.servers"), flags.get("requests.topic"),
                flags.get("results.topic"), Boolean.parseBoolean(flags.get("read.committed")))) {
            if (!checker.catchUp(Duration.ofMinutes(2))) {
                System.err.println("checker: could not read both topics to their end within 2 minutes");
            }
            ResultLedger.Tally t = checker.tally(List.of());
            System.out.printf("requests %d %s, answered %d, lost %d, duplicates %d (%d ids), answers %s, unexpected %s,"
                    + " unmatched results %d, inconsistent sources %d, drain %.1f s%n", t.requests(), t.requestsByKind(),
                    t.answered(), t.lost(), t.duplicates(), t.idsWithDuplicates(), t.answers(), t.unexpected(),
                    t.unmatchedResults(), t.inconsistentSources(), t.drainSeconds());
            t.lostIds().stream().limit(20).forEach(id -> System.out.println("lost " + id));
            System.exit(t.lost() == 0 ? 0 : 1);
        }
    }
}
