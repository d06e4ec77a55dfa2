package io.inferencefleet.kafka.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker inside this JVM: Kafka's production KRaft server
 * ({@code KafkaRaftServer}, what {@code kafka.Kafka} runs), one node that is both broker and
 * controller, listening on loopback. It is the only way the project starts a broker of its own, in
 * one of two modes:
 *
 * <ul>
 *   <li>{@link #startEphemeral()}: a new temporary directory and free ports; the directory is
 *       deleted on {@link #close()}, or when the JVM exits if nobody closed the broker. For
 *       {@code fleet demo}, the benchmarks and the tests.
 *   <li>{@link #startPersistent}: a directory kept across restarts and fixed ports, for
 *       {@code fleet broker} (development and small single-machine installations).
 * </ul>
 *
 * <pre>{@code
 * try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {  // returns once clients are served
 *     kafka.createTopic("images", 2);
 *     String bootstrap = kafka.bootstrapServers();                   // "127.0.0.1:PORT"
 * }                                                                  // controlled shutdown, then the directory goes
 *
 * try (SingleNodeKafka kafka = SingleNodeKafka.startPersistent(Path.of(".fleet/kafka"), 9092, 9093, Map.of())) {
 *     ...
 * }                                                                  // controlled shutdown, data kept
 * }</pre>
 *
 * <p>Both modes use the same single-node settings: every internal topic has one
 * replica and needs one in-sync replica, so consumer groups and transactions work on one node;
 * groups rebalance without the usual 3 s wait for more members; topics are created on first use with
 * one partition. Overrides (any Kafka broker setting, e.g. {@code num.partitions} or
 * {@code auto.create.topics.enable=false}) are applied last.
 *
 * <p>Layout of the directory: {@code broker.lock} (held while running: one broker per directory),
 * {@code server.properties} (the effective settings, rewritten at each start; usable as is with
 * Kafka's own {@code kafka-server-start.sh}) and {@code data/} (the log directory, metadata log
 * included; its {@code meta.properties} holds the cluster id). The storage is formatted with Kafka's
 * {@code StorageTool} when {@code data/meta.properties} is missing and reused otherwise.
 *
 * <p>Thread-safe. {@link #close()} is idempotent; {@link #awaitShutdown()} lets a foreground
 * command wait for a close from a shutdown hook.
 */
public final class SingleNodeKafka implements AutoCloseable {
    static final int NODE_ID = 1;

    /**
     * Ephemeral mode only. The log cleaner's dedupe buffer is allocated on the heap at start
     * (128 MiB by default); a throw-away broker compacts little more than its offsets topic, and
     * shares its JVM with a demo or a benchmark harness. 2 MiB is what Kafka's own test kit uses.
     */
    static final Map<String, String> EPHEMERAL_SETTINGS = Map.of("log.cleaner.dedupe.buffer.size", "2097152");

    private final KafkaRaftServer server;
    private final FileLock dirLock;
    private final Path dir;
    private final boolean ephemeral;
    private final String bootstrapServers;
    private final String clusterId;
    private final boolean formatted;
    private Thread cleanupHook;  // ephemeral mode, until closed; guarded by this
    private boolean closed;      // guarded by this

    private SingleNodeKafka(KafkaRaftServer server, FileLock dirLock, Path dir, boolean ephemeral, int port,
            String clusterId, boolean formatted) {
        this.server = server;
        this.dirLock = dirLock;
        this.dir = dir;
        this.ephemeral = ephemeral;
        this.bootstrapServers = "127.0.0.1:" + port;
        this.clusterId = clusterId;
        this.formatted = formatted;
    }

    /** {@link #startEphemeral(Map)} with no overrides. */
    public static SingleNodeKafka startEphemeral() throws IOException {
        return startEphemeral(Map.of());
    }

    /**
     * Starts a broker in a new temporary directory on two free loopback ports and returns once it
     * serves clients. {@link #close()} deletes the directory; so does JVM exit, should the caller
     * never close it. {@code overrides} are Kafka broker settings applied last.
     */
    public static SingleNodeKafka startEphemeral(Map<String, String> overrides) throws IOException {
        return startEphemeral(null, overrides);
    }

    /** {@link #startEphemeral(Map)} in a new directory under {@code parent} (null: the system's temporary directory). */
    static SingleNodeKafka startEphemeral(Path parent, Map<String, String> overrides) throws IOException {
        String prefix = "fleet-kafka-";
        Path dir = parent == null ? Files.createTempDirectory(prefix) : Files.createTempDirectory(parent, prefix);
        Map<String, String> settings = new LinkedHashMap<>(EPHEMERAL_SETTINGS);
        settings.putAll(overrides);
        SingleNodeKafka kafka;
        // Held until Kafka listens on them: see LoopbackPort for why a port merely found free is not enough.
        try (LoopbackPort port = LoopbackPort.reserveFree(); LoopbackPort controllerPort = LoopbackPort.reserveFree()) {
            kafka = start(dir, true, port.port(), controllerPort.port(), settings);
        } catch (IOException | RuntimeException | Error e) {
            try {
                deleteTree(dir);
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        synchronized (kafka) {
            kafka.cleanupHook = new Thread(kafka::close, "kafka-" + dir.getFileName() + "-cleanup");
            Runtime.getRuntime().addShutdownHook(kafka.cleanupHook);
        }
        return kafka;
    }

    /**
     * Formats {@code dir} if needed, starts the broker on {@code port} (clients) and
     * {@code controllerPort} (KRaft) of 127.0.0.1 and returns once it serves clients.
     * {@code overrides} are Kafka broker settings applied last.
     *
     * @throws IllegalStateException if another broker runs on {@code dir} or a port is in use
     */
    public static SingleNodeKafka startPersistent(Path dir, int port, int controllerPort, Map<String, String> overrides)
            throws IOException {
        return start(dir, false, port, controllerPort, overrides);
    }

    private static SingleNodeKafka start(Path dir, boolean ephemeral, int port, int controllerPort,
            Map<String, String> overrides) throws IOException {
        Files.createDirectories(dir);
        // Kafka locks its log directory only when the broker half starts, after the controller has
        // opened the metadata log: a second server on the same directory would run two Raft
        // replicas over one log. Our own lock, taken first and held until close, prevents that.
        FileLock lock = lock(dir.resolve("broker.lock"));
        try {
            if (!ephemeral) {
                // A controller port Kafka cannot bind is a fatal fault to it: it halts the JVM (its
                // ProcessTerminatingFaultHandler; a busy client port only throws). Check both first, so
                // that the usual case, a port in use, is a clear error.
                LoopbackPort.requireFree(port, "client port");
                LoopbackPort.requireFree(controllerPort, "controller port");
            }
            return start(dir, ephemeral, lock, port, controllerPort, overrides);
        } catch (IOException | RuntimeException | Error e) {
            lock.channel().close();
            throw e;
        }
    }

    private static SingleNodeKafka start(Path dir, boolean ephemeral, FileLock lock, int port, int controllerPort,
            Map<String, String> overrides) throws IOException {
        Path data = dir.resolve("data");
        Properties props = settings(data, port, controllerPort);
        props.putAll(overrides);
        // Validated before server.properties is rewritten or the storage formatted: a bad override
        // fails with Kafka's "Invalid value X for configuration NAME" and leaves the data untouched.
        KafkaConfig config = KafkaConfig.fromProps(props, false);
        Path propsFile = dir.resolve("server.properties");
        try (Writer writer = Files.newBufferedWriter(propsFile, StandardCharsets.UTF_8)) {
            props.store(writer, "Written at each start of this broker; the storage is formatted once");
        }

        Path meta = data.resolve("meta.properties");
        boolean format = !Files.exists(meta);
        if (format) {
            format(propsFile, Uuid.randomUuid().toString());
        }
        String clusterId = readClusterId(meta);

        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            server.startup();  // returns once the broker is unfenced, i.e. serving clients
        } catch (RuntimeException | Error e) {
            server.shutdown();
            server.awaitShutdown();
            throw e;
        }
        return new SingleNodeKafka(server, lock, dir, ephemeral, port, clusterId, format);
    }

    static FileLock lock(Path file) throws IOException {
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

    /** The single-node settings of both modes; see the class comment for what is persisted where. */
    static Properties settings(Path data, int port, int controllerPort) {
        return NodeSettings.combinedNode(NODE_ID, data, List.of(port), List.of(controllerPort));
    }

    static void format(Path propsFile, String clusterId) {
        // StorageTool reports on the stream it is given; keep it off the caller's stdout.
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

    static String readClusterId(Path meta) throws IOException {
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

    /** Whether this start formatted the storage (always for an ephemeral broker; first use of a persistent directory). */
    public boolean formatted() {
        return formatted;
    }

    /** The broker's directory (for an ephemeral broker, gone after {@link #close()}). */
    public Path directory() {
        return dir;
    }

    public boolean ephemeral() {
        return ephemeral;
    }

    /** The version of the Kafka jars this broker runs. */
    public static String kafkaVersion() {
        return AppInfoParser.getVersion();
    }

    /**
     * Creates topic {@code name} with {@code partitions} partitions of one replica, returning once
     * the controller has created it.
     */
    public void createTopic(String name, int partitions) throws InterruptedException, ExecutionException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    /** Blocks until the broker has stopped (after {@link #close} from another thread). */
    public void awaitShutdown() {
        server.awaitShutdown();
    }

    /**
     * Controlled shutdown: the broker leaves the cluster, then the controller stops; then the
     * directory lock is released and an ephemeral broker's directory deleted. Idempotent; a second
     * caller returns once the first has finished.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            try {
                dirLock.channel().close();  // releases the lock
            } catch (IOException e) {
                throw new UncheckedIOException("releasing " + dirLock.channel(), e);
            } finally {
                if (ephemeral) {
                    removeCleanupHook();
                    try {
                        deleteTree(dir);
                    } catch (IOException e) {
                        throw new UncheckedIOException("deleting the ephemeral broker's directory " + dir, e);
                    }
                }
            }
        }
    }

    synchronized Thread cleanupHook() {
        return cleanupHook;
    }

    private void removeCleanupHook() {
        if (cleanupHook == null || Thread.currentThread() == cleanupHook) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException e) {
            // The JVM is already exiting: the hook runs, finds the broker closed and returns.
        }
    }

    static void deleteTree(Path root) throws IOException {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path directory, IOException failure) throws IOException {
                    if (failure != null) {
                        throw failure;
                    }
                    Files.delete(directory);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // already gone
        }
    }
}
