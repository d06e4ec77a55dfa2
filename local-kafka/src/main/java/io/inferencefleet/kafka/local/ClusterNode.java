package io.inferencefleet.kafka.local;

import java.io.IOException;
import java.io.Writer;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;

/**
 * One node of a {@link LocalKafkaCluster}, as the main class of a JVM of its own so that a test can
 * SIGKILL it: Kafka's production KRaft server ({@code KafkaRaftServer}), broker and controller in one
 * node, on a directory kept across restarts ({@code server.properties}, {@code data/}; formatted once
 * with the cluster's id) and fixed loopback ports.
 *
 * <pre>
 * java -cp CLASSPATH io.inferencefleet.kafka.local.ClusterNode DIR NODE_ID CLUSTER_ID CLIENT_PORTS CONTROLLER_PORTS
 *      (ports of every node, comma-separated, node 1 first)
 * </pre>
 *
 * Prints {@value #READY} and the node id once the node serves clients (its startup waits for a
 * controller quorum, so a majority of the nodes must be starting); SIGTERM is a controlled shutdown.
 * Exit code 2 for bad arguments, 1 when the node could not start.
 */
public final class ClusterNode {
    /** The line a node prints once it serves clients: {@code "cluster node ready: <id>"}. */
    public static final String READY = "cluster node ready: ";

    private ClusterNode() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: ClusterNode DIR NODE_ID CLUSTER_ID CLIENT_PORTS CONTROLLER_PORTS; got "
                    + Arrays.toString(args));
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int nodeId = Integer.parseInt(args[1]);
        long startNs = System.nanoTime();
        Files.createDirectories(dir);
        // Our own lock, as for SingleNodeKafka: Kafka locks the log directory only after the controller opened it.
        FileLock lock = SingleNodeKafka.lock(dir.resolve("broker.lock"));
        Properties props = NodeSettings.combinedNode(nodeId, dir.resolve("data"), ports(args[3]), ports(args[4]));
        props.put("log.cleaner.dedupe.buffer.size", "2097152");  // a test cluster compacts little; see SingleNodeKafka
        KafkaConfig config = KafkaConfig.fromProps(props, false);
        Path propsFile = dir.resolve("server.properties");
        try (Writer writer = Files.newBufferedWriter(propsFile, StandardCharsets.UTF_8)) {
            props.store(writer, "Written at each start of this node; the storage is formatted once");
        }
        if (!Files.exists(dir.resolve("data").resolve("meta.properties"))) {
            SingleNodeKafka.format(propsFile, args[2]);
        }
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
        }, "cluster-node-" + nodeId + "-shutdown"));
        try {
            server.startup();  // returns once the broker is unfenced, i.e. serving clients
        } catch (RuntimeException | Error e) {
            e.printStackTrace();
            System.exit(1);
        }
        System.out.printf("%s%d (KRaft Kafka %s, %d ms)%n", READY, nodeId, SingleNodeKafka.kafkaVersion(),
                (System.nanoTime() - startNs) / 1_000_000);
        System.out.flush();
        server.awaitShutdown();
        lock.release();
    }

    private static List<Integer> ports(String list) {
        return Arrays.stream(list.split(",")).map(Integer::valueOf).toList();
    }
}
