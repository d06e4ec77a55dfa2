package io.inferencefleet.benchmarks.chaos;

import io.inferencefleet.kafka.local.LocalKafkaCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The failover scenario's Kafka: a {@link LocalKafkaCluster} of three nodes, each a child process
 * registered with {@link ChildProcesses}, and the scenario's two topics on it (three replicas,
 * {@code min.insync.replicas=2}, node {@value #LEADER} leading every partition; the results topic with
 * {@code LogAppendTime}, so that an answer's timestamp is when a leader wrote it). Answers the
 * questions the scenario asks about those partitions; a question the cluster cannot answer while its
 * metadata moves counts as "not yet".
 */
final class FailoverCluster implements AutoCloseable {
    static final int NODES = 3;
    /** The node that leads every partition of the scenario's topics until it is killed. */
    static final int LEADER = 1;

    private final LocalKafkaCluster cluster;
    private final ChildProcesses children;
    private final Map<String, Integer> partitions;  // topic -> partition count

    private FailoverCluster(LocalKafkaCluster cluster, ChildProcesses children, Map<String, Integer> partitions) {
        this.cluster = cluster;
        this.children = children;
        this.partitions = partitions;
    }

    /** Starts the nodes under {@code dir} (JVMs with {@code jvmOptions}) and creates both topics. */
    static FailoverCluster start(Path dir, Path jvmOptions, ChildProcesses children, String in, int inPartitions, String out,
                                 int outPartitions, Duration timeout) throws Exception {
        LocalKafkaCluster cluster = LocalKafkaCluster.start(dir, NODES, List.of("@" + jvmOptions, "-Xms64m", "-Xmx512m"),
                timeout);
        for (int node = 1; node <= NODES; node++) {
            children.add(cluster.pid(node));
        }
        try {
            cluster.createTopic(in, inPartitions, LEADER, Map.of("min.insync.replicas", "2"));
            cluster.createTopic(out, outPartitions, LEADER, Map.of("min.insync.replicas", "2",
                    "message.timestamp.type", "LogAppendTime"));
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        return new FailoverCluster(cluster, children, Map.of(in, inPartitions, out, outPartitions));
    }

    String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    long pid(int node) {
        return cluster.pid(node);
    }

    /** The leader of {@code topic}'s partition 0 now. */
    int leader(String topic) throws Exception {
        return cluster.leader(topic, 0);
    }

    /** The partitions ({@code topic-p}) {@code node} leads now. */
    List<String> partitionsLedBy(int node) throws Exception {
        List<String> led = new ArrayList<>();
        for (Map.Entry<String, Integer> topic : partitions.entrySet()) {
            for (int p = 0; p < topic.getValue(); p++) {
                if (cluster.leader(topic.getKey(), p) == node) {
                    led.add(topic.getKey() + "-" + p);
                }
            }
        }
        return led.stream().sorted().toList();
    }

    /** Whether every partition has a leader and it is not {@code node}. */
    boolean ledByOthersThan(int node) {
        try {
            for (Map.Entry<String, Integer> topic : partitions.entrySet()) {
                for (int p = 0; p < topic.getValue(); p++) {
                    int leader = cluster.leader(topic.getKey(), p);
                    if (leader == node || leader < 0) {
                        return false;
                    }
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Whether every node is in every partition's ISR. */
    boolean fullyInSync() {
        try {
            for (Map.Entry<String, Integer> topic : partitions.entrySet()) {
                for (int p = 0; p < topic.getValue(); p++) {
                    if (cluster.inSyncReplicas(topic.getKey(), p).size() < NODES) {
                        return false;
                    }
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** SIGKILL of {@code node}; returns once its process is gone. */
    void kill(int node) throws InterruptedException {
        cluster.kill(node);
    }

    /** Starts {@code node} again on its directory and ports; returns once it serves clients. */
    void restart(int node, Duration timeout) throws Exception {
        cluster.restart(node, timeout);
        children.add(cluster.pid(node));
    }

    /** Every node's log ({@code dir/node-<id>/node.log}), for the report's notable lines. */
    static List<Path> logs(Path dir) {
        List<Path> logs = new ArrayList<>();
        for (int node = 1; node <= NODES; node++) {
            logs.add(dir.resolve("node-" + node).resolve("node.log"));
        }
        return logs;
    }

    @Override
    public void close() {
        cluster.close();
    }
}
