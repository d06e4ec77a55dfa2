package io.inferencefleet.ops.broker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker (KRaft, one process that is both broker and controller) inside
 * this JVM, keeping its data in a directory across restarts: {@code fleet broker}, for development
 * and small single-machine installations. Unlike {@link LocalKafka} it uses fixed loopback ports and
 * a persistent directory, and is Kafka's production server ({@code KafkaRaftServer}, what
 * {@code kafka.Kafka} runs) rather than the test kit.
 *
 * <pre>{@code
 * try (StandaloneBroker broker = StandaloneBroker.start(Path.of(".fleet/kafka"), 9092, 9093, Map.of())) {
 *     String bootstrap = broker.bootstrapServers();   // "127.0.0.1:9092", ready to use
 * }                                                     // controlled shutdown, data kept
 * }</pre>
 *
 * <p>Layout of the directory: {@code broker.lock} (held while running: one broker per directory),
 * {@code server.properties} (the effective settings, rewritten at each
 * start; usable as is with Kafka's own {@code kafka-server-start.sh}) and {@code data/} (the log
 * directory, metadata log included; its {@code meta.properties} holds the cluster id). The storage
 * is formatted with Kafka's {@code StorageTool} when {@code data/meta.properties} is missing and
 * reused otherwise. Topics are created automatically on first use (one partition unless
 * {@code num.partitions} is overridden), as a development broker should.
 */
public final class StandaloneBroker implements AutoCloseable {
    static final int NODE_ID = 1;

    private final KafkaRaftServer server;
    private final FileLock dirLock;
    private final String bootstrapServers;
    private final String clusterId;
    private final boolean formatted;
    private final AtomicBoolean closed = new AtomicBoolean();

    private StandaloneBroker(KafkaRaftServer server, FileLock dirLock, String bootstrapServers, String clusterId,
            boolean formatted) {
        this.server = server;
        this.dirLock = dirLock;
        this.bootstrapServers = bootstrapServers;
        this.clusterId = clusterId;
        this.formatted = formatted;
    }

    /**
     * Formats {@code dir} if needed, starts the broker and returns once it accepts clients (the
     * broker is unfenced). {@code overrides} are Kafka broker settings applied last.
     */
    public static StandaloneBroker start(Path dir, int port, int controllerPort, Map<String, String> overrides)
            throws IOException {
        Files.createDirectories(dir);
        // Kafka locks its log directory only when the broker half starts, after the controller has
        // opened the metadata log: a second server on the same directory would run two Raft
        // replicas over one log. Our own lock, taken first and held until close, prevents that.
        FileLock lock = lock(dir.resolve("broker.lock"));
        try {
            return start(dir, lock, port, controllerPort, overrides);
        } catch (IOException | RuntimeException | Error e) {
            lock.channel().close();
            throw e;
        }
    }

    private static StandaloneBroker start(Path dir, FileLock lock, int port, int controllerPort,
            Map<String, String> overrides) throws IOException {
        // Kafka treats a port it cannot bind as a fatal fault and exits the JVM (its
        // ProcessTerminatingFaultHandler): check first, so that the usual case is a clear error.
        requireFree(port, "--port");
        requireFree(controllerPort, "controller port");
        Path data = dir.resolve("data");
        Properties props = settings(data, port, controllerPort);
        props.putAll(overrides);
        Path propsFile = dir.resolve("server.properties");
        try (Writer writer = Files.newBufferedWriter(propsFile, StandardCharsets.UTF_8)) {
            props.store(writer, "Written by fleet broker at each start; the storage is formatted once");
        }

        Path meta = data.resolve("meta.properties");
        boolean format = !Files.exists(meta);
        if (format) {
            format(propsFile, Uuid.randomUuid().toString());
        }
        String clusterId = readClusterId(meta);

        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        try {
            server.startup();  // returns once the broker is unfenced, i.e. serving clients
        } catch (RuntimeException | Error e) {
            server.shutdown();
            server.awaitShutdown();
            throw e;
        }
        return new StandaloneBroker(server, lock, "127.0.0.1:" + port, clusterId, format);
    }

    private static void requireFree(int port, String what) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);  // as Kafka binds: a port in TIME_WAIT is free
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new IllegalStateException(what + " " + port + " on 127.0.0.1 is in use (" + e.getMessage() + ")");
        }
    }

    private static FileLock lock(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;  // held by this JVM
        }
        if (lock == null) {
            channel.close();
            throw new IllegalStateException(file.getParent() + " is in use by another running broker");
        }
        return lock;
    }

    /** The single-node settings; see the class comment for what is persisted where. */
    static Properties settings(Path data, int port, int controllerPort) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("process.roles", "broker,controller");
        s.put("node.id", Integer.toString(NODE_ID));
        // A static voter set: the controller's address lives in this file, not in the formatted
        // metadata, so changing --port later only needs a restart.
        s.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        s.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        s.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        s.put("controller.listener.names", "CONTROLLER");
        s.put("inter.broker.listener.name", "PLAINTEXT");
        s.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        s.put("log.dirs", data.toAbsolutePath().toString());
        // One node: every internal topic has one replica.
        s.put("offsets.topic.replication.factor", "1");
        s.put("transaction.state.log.replication.factor", "1");
        s.put("transaction.state.log.min.isr", "1");
        s.put("share.coordinator.state.topic.replication.factor", "1");
        s.put("share.coordinator.state.topic.min.isr", "1");
        s.put("default.replication.factor", "1");
        s.put("min.insync.replicas", "1");
        // A group of one worker should not wait 3 s for others to join.
        s.put("group.initial.rebalance.delay.ms", "0");
        s.put("auto.create.topics.enable", "true");
        s.put("num.partitions", "1");
        Properties props = new Properties();
        props.putAll(s);
        return props;
    }

    private static void format(Path propsFile, String clusterId) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int code;
        try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            code = StorageTool.execute(new String[] {"format", "--config", propsFile.toString(),
                "--cluster-id", clusterId}, print);
        }
        if (code != 0) {
            throw new IllegalStateException("formatting the Kafka storage failed (" + code + "): "
                    + output.toString(StandardCharsets.UTF_8).strip());
        }
    }

    private static String readClusterId(Path meta) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(meta, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        return properties.getProperty("cluster.id");
    }

    /** {@code 127.0.0.1:PORT}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String clusterId() {
        return clusterId;
    }

    /** Whether this start formatted the storage (first use of the directory). */
    public boolean formatted() {
        return formatted;
    }

    public static String kafkaVersion() {
        return AppInfoParser.getVersion();
    }

    /** Blocks until the broker has stopped (after {@link #close} from another thread). */
    public void awaitShutdown() {
        server.awaitShutdown();
    }

    /** Controlled shutdown: the broker leaves the cluster, then the controller stops; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.shutdown();
            server.awaitShutdown();
            try {
                dirLock.channel().close();  // releases the lock
            } catch (IOException e) {
                throw new UncheckedIOException("releasing " + dirLock.channel(), e);
            }
        } else {
            server.awaitShutdown();
        }
    }
}
