package io.inferencefleet.ops.cli;

import io.inferencefleet.kafka.local.SingleNodeKafka;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fleet broker}: a real single-node KRaft Kafka broker in the foreground, its data kept in a
 * directory across restarts, until Ctrl-C or SIGTERM (then a controlled shutdown).
 */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = {"Run a single-node Kafka broker (KRaft, broker and controller in this process) on loopback,",
            "in the foreground until Ctrl-C. The storage in DIR is formatted on first use and kept afterwards.",
            "Topics are created automatically on first use (1 partition unless -X num.partitions=N).",
            "Transactions work on this one node (transaction state log: replication 1, min ISR 1), so workers can",
            "run with --delivery.guarantee=exactly-once against it."})
final class BrokerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".fleet/kafka",
            description = "Data directory (default: ${DEFAULT-VALUE} under the current directory).")
    Path dir;

    @Option(names = "--port", defaultValue = "9092", description = "Client port on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--controller-port", description = "KRaft controller port on 127.0.0.1 (default: --port + 1).")
    Integer controllerPort;

    @Option(names = {"-X", "--kafka"}, paramLabel = "KEY=VALUE",
            description = "Kafka broker setting applied last (num.partitions, log.retention.hours, ...); repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        long startNs = System.nanoTime();
        SingleNodeKafka broker = SingleNodeKafka.startPersistent(dir, port,
                controllerPort != null ? controllerPort : port + 1, settings);
        Thread hook = new Thread(broker::close, "broker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.printf("broker   KRaft Kafka %s at %s   (%s %s, cluster %s, ready in %.1f s; Ctrl-C stops)%n",
                SingleNodeKafka.kafkaVersion(), broker.bootstrapServers(),
                broker.formatted() ? "formatted" : "reusing", dir.toAbsolutePath().normalize(),
                broker.clusterId(), (System.nanoTime() - startNs) / 1e9);
        out.flush();
        broker.awaitShutdown();
        // Only the hook stops the broker; once it has, the JVM is already exiting.
        return 0;
    }
}
