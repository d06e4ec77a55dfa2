package io.inferencefleet.kafka.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;

/**
 * A replicated Kafka cluster on loopback for failover tests and the chaos command: three (or
 * {@code n}) {@link ClusterNode}s, each a combined broker and controller in a JVM of its own, so that
 * {@link #kill} is a real SIGKILL. Topics get three replicas and need two in sync
 * ({@link NodeSettings}); {@link #createTopic} places every partition's preferred leader on one node,
 * so that one kill takes the leader of a whole topic away.
 *
 * <pre>{@code
 * try (LocalKafkaCluster cluster = LocalKafkaCluster.start(dir, 3, List.of("-Xmx512m"), Duration.ofMinutes(2))) {
 *     cluster.createTopic("images", 2, 1, Map.of());   // node 1 leads both partitions
 *     cluster.kill(cluster.leader("images", 0));        // SIGKILL; the controller elects a new leader
 *     cluster.restart(1, Duration.ofMinutes(1));         // same directory and ports; returns once it serves
 * }                                                      // SIGTERM (controlled shutdown) to every node left
 * }</pre>
 *
 * Each node's directory is {@code dir/node-<id>} and its output goes to {@code dir/node-<id>/node.log}.
 * The nodes run the caller's class path ({@code java.class.path}), which must hold local-kafka and
 * its dependencies. Not thread-safe: one caller drives the cluster.
 */
public final class LocalKafkaCluster implements AutoCloseable {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final List<String> NODE_LOGGING = List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");

    private final Path dir;
    private final List<String> jvmArgs;
    private final String clusterId = Uuid.randomUuid().toString();
    private final List<Integer> clientPorts;
    private final List<Integer> controllerPorts;
    private final Map<Integer, Process> processes = new HashMap<>();

    private LocalKafkaCluster(Path dir, List<String> jvmArgs, List<Integer> clientPorts, List<Integer> controllerPorts) {
        this.dir = dir;
        this.jvmArgs = List.copyOf(jvmArgs);
        this.clientPorts = clientPorts;
        this.controllerPorts = controllerPorts;
    }

    /**
     * Formats and starts {@code nodes} nodes under {@code dir} on free loopback ports and returns once
     * every one serves clients; a node that does not within {@code timeout} fails the start (and
     * every node is stopped).
     *
     * @param jvmArgs options of the nodes' JVMs (heap size, {@code @jvm.options})
     */
    public static LocalKafkaCluster start(Path dir, int nodes, List<String> jvmArgs, Duration timeout)
            throws IOException, InterruptedException, TimeoutException {
        if (nodes < 1) {
            throw new IllegalArgumentException("Invalid value " + nodes + " for nodes: must be >= 1");
        }
        List<LoopbackPort> reserved = new ArrayList<>();
        try {
            // Held until every node listens: see LoopbackPort.
            for (int i = 0; i < 2 * nodes; i++) {
                reserved.add(LoopbackPort.reserveFree());
            }
            List<Integer> ports = reserved.stream().map(LoopbackPort::port).toList();
            LocalKafkaCluster cluster = new LocalKafkaCluster(dir, jvmArgs, ports.subList(0, nodes),
                    ports.subList(nodes, 2 * nodes));
            try {
                // All at once: a node's startup waits for a controller quorum, i.e. for a majority of the others.
                List<CompletableFuture<String>> ready = new ArrayList<>();
                for (int node = 1; node <= nodes; node++) {
                    ready.add(cluster.launch(node));
                }
                for (int node = 1; node <= nodes; node++) {
                    cluster.awaitReady(node, ready.get(node - 1), timeout);
                }
                return cluster;
            } catch (IOException | InterruptedException | TimeoutException | RuntimeException e) {
                cluster.close();
                throw e;
            }
        } finally {
            for (LoopbackPort port : reserved) {
                port.close();
            }
        }
    }

    /** Every node's client address, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return clientPorts.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    public int nodes() {
        return clientPorts.size();
    }

    public String clusterId() {
        return clusterId;
    }

    /** The directory of node {@code node} (its {@code node.log} included). */
    public Path nodeDirectory(int node) {
        return dir.resolve("node-" + node);
    }

    /** The pid of node {@code node}'s JVM, or -1 while it is not running. */
    public long pid(int node) {
        Process p = processes.get(node);
        return p != null && p.isAlive() ? p.pid() : -1;
    }

    /** SIGKILL of node {@code node}'s JVM; returns once the process is gone. */
    public void kill(int node) throws InterruptedException {
        Process p = processes.get(checkNode(node));
        if (p != null) {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /** Starts node {@code node} again on its directory and ports; returns once it serves clients. */
    public void restart(int node, Duration timeout) throws IOException, InterruptedException, TimeoutException {
        Process p = processes.get(checkNode(node));
        if (p != null && p.isAlive()) {
            throw new IllegalStateException("node " + node + " is running as pid " + p.pid());
        }
        awaitReady(node, launch(node), timeout);
    }

    /**
     * Creates {@code name} with {@code partitions} partitions of {@link #nodes()} replicas (capped at
     * three), {@code leader} first in every replica list so that it is every partition's preferred
     * (and, on a healthy cluster, actual) leader, plus the topic settings {@code configs}.
     */
    public void createTopic(String name, int partitions, int leader, Map<String, String> configs)
            throws InterruptedException, ExecutionException {
        checkNode(leader);
        int replicas = Math.min(nodes(), 3);
        Map<Integer, List<Integer>> assignment = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            List<Integer> order = new ArrayList<>(List.of(leader));
            for (int i = 1; i < replicas; i++) {
                order.add((leader - 1 + (p + i - 1) % (nodes() - 1) + 1) % nodes() + 1);  // followers rotate
            }
            assignment.put(p, order);
        }
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, assignment).configs(configs))).all().get();
        }
    }

    /** The node leading {@code topic}'s partition {@code partition} now, or -1 when it has none. */
    public int leader(String topic, int partition) throws InterruptedException, ExecutionException {
        Node leader = partitionInfo(topic, partition).leader();
        return leader == null || leader.isEmpty() ? -1 : leader.id();
    }

    /** The nodes in sync for {@code topic}'s partition {@code partition} now. */
    public List<Integer> inSyncReplicas(String topic, int partition) throws InterruptedException, ExecutionException {
        return partitionInfo(topic, partition).isr().stream().map(Node::id).sorted().toList();
    }

    private TopicPartitionInfo partitionInfo(String topic, int partition) throws InterruptedException, ExecutionException {
        try (Admin admin = admin()) {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            return d.partitions().get(partition);
        }
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
    }

    private int checkNode(int node) {
        if (node < 1 || node > nodes()) {
            throw new IllegalArgumentException("Invalid value " + node + " for node: the cluster has nodes 1.." + nodes());
        }
        return node;
    }

    private CompletableFuture<String> launch(int node) throws IOException {
        Path nodeDir = Files.createDirectories(nodeDirectory(node));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        // Kafka's own INFO lines (elections, ISR changes, fencing) are what a failover is read from.
        command.addAll(NODE_LOGGING);
        // C1 only: a node restarted on two busy vCPUs took 22 s to serve, 7 s of it before its first log line;
        // a test cluster carries a few hundred records a second, which needs no C2.
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-cp");
        command.add(absoluteClassPath());
        command.add(ClusterNode.class.getName());
        command.addAll(List.of(nodeDir.toAbsolutePath().toString(), Integer.toString(node), clusterId,
                join(clientPorts), join(controllerPorts)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        processes.put(node, process);
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread copier = new Thread(() -> copyOutput(process, nodeDir.resolve("node.log"), ready),
                "kafka-node-" + node + "-output");
        copier.setDaemon(true);
        copier.start();
        return ready;
    }

    private void awaitReady(int node, CompletableFuture<String> ready, Duration timeout)
            throws InterruptedException, TimeoutException {
        try {
            ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Process p = processes.get(node);
            throw new IllegalStateException("Kafka node " + node + " exited before it was ready (exit code "
                    + (p.isAlive() ? "?" : p.exitValue()) + "); see " + nodeDirectory(node).resolve("node.log"), e);
        } catch (TimeoutException e) {
            throw new TimeoutException("Kafka node " + node + " not ready within " + timeout + "; see "
                    + nodeDirectory(node).resolve("node.log"));
        }
    }

    private static void copyOutput(Process p, Path log, CompletableFuture<String> ready) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             OutputStream out = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            out.write(("---- pid " + p.pid() + " started at " + Instant.now() + "\n").getBytes(StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (line.startsWith(ClusterNode.READY)) {
                    ready.complete(line);
                }
            }
        } catch (IOException e) {
            // the process was killed: its pipe ends
        }
        ready.completeExceptionally(new IllegalStateException("node output ended"));
    }

    private static String absoluteClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .map(e -> Path.of(e).toAbsolutePath().toString()).collect(Collectors.joining(java.io.File.pathSeparator));
    }

    private static String join(List<Integer> ports) {
        return ports.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /** SIGTERM to every running node (a controlled shutdown), SIGKILL after 30 s. Idempotent. */
    @Override
    public void close() {
        for (Process p : processes.values()) {
            p.destroy();
        }
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (Process p : processes.values()) {
            try {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
