package io.inferencefleet.ops.cli;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code fleet results}: follows the results topic (every partition, no consumer group, nothing
 * committed) and prints each result, until Ctrl-C or {@code --max} results.
 */
@Command(name = "results", mixinStandardHelpOptions = true,
        description = "Follow the results topic and print each result as a table row or a JSON line, until Ctrl-C or --max.")
final class ResultsCommand implements Callable<Integer> {
    private static final String ROW = "%-24s %-7s %-36s %9s  %s%n";

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--topic", paramLabel = "TOPIC", defaultValue = "predictions", description = "Results topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--from-beginning", description = "Start at the oldest result instead of the newest.")
    boolean fromBeginning;

    @Option(names = "--json", description = "Print each result as one JSON line instead of a table row.")
    boolean json;

    @Option(names = "--max", paramLabel = "N", description = "Stop after N results.")
    Long max;

    @Option(names = "--read-committed", description = {"Show only results of committed transactions"
            + " (isolation.level=read_committed): with workers on delivery.guarantee=exactly-once, each request's"
            + " answer exactly once; results appear when their transaction commits."})
    boolean readCommitted;

    @Override
    public Integer call() throws InterruptedException {
        if (max != null && max < 1) {
            throw new ParameterException(spec.commandLine(), "Invalid value " + max + " for --max: must be at least 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        MessageCodec codec = new MessageCodec();
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);  // reading must not create a topic
        config.putAll(kafka.config());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        if (readCommitted) {
            config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        }
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        CountDownLatch finished = new CountDownLatch(1);
        long printed = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = new ArrayList<>();
            var infos = consumer.partitionsFor(topic);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalArgumentException("topic " + topic + " has no partitions (does it exist?)");
            }
            infos.forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
            consumer.assign(partitions);
            (fromBeginning ? consumer.beginningOffsets(partitions) : consumer.endOffsets(partitions)).forEach(consumer::seek);
            // Ctrl-C: wake the poll, then let the loop end normally so that the consumer closes.
            Thread hook = new Thread(() -> {
                consumer.wakeup();
                try {
                    finished.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "fleet-results-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            if (!json) {
                out.printf(ROW, "ID", "STATUS", "TOP-1 / ERROR", "TOTAL MS", "WORKER");
                out.flush();
            }
            try {
                while (max == null || printed < max) {
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                        if (max != null && printed >= max) {
                            break;
                        }
                        InferenceResult result;
                        try {
                            result = codec.decodeResult(record.value());
                        } catch (IllegalArgumentException e) {
                            err.println("skipping " + record.topic() + "-" + record.partition() + "@" + record.offset()
                                    + ": " + e.getMessage());
                            continue;
                        }
                        if (json) {
                            out.println(new String(codec.encode(result), StandardCharsets.UTF_8));
                        } else {
                            Double total = result.timingsMs() == null ? null : result.timingsMs().total();
                            out.printf(ROW, result.id(), result.status(), ResultFormat.outcome(result),
                                    total == null ? "-" : String.format("%.1f", total),
                                    result.workerId() == null ? "-" : result.workerId());
                        }
                        out.flush();
                        printed++;
                    }
                }
            } catch (WakeupException e) {
                // Ctrl-C
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // the JVM is already shutting down (Ctrl-C): the hook waits for us
                }
            }
        } finally {
            finished.countDown();
        }
        return 0;
    }
}
