package io.inferencefleet.worker.config;

import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import io.inferencefleet.shm.TensorQueueConfig;
import io.inferencefleet.worker.fetch.FetchConfig;
import io.inferencefleet.worker.numa.AllowedCpus;
import io.inferencefleet.worker.numa.NumaTopology;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * The worker's configuration: every key defined once below, resolved from (lowest to highest
 * precedence) defaults, an optional properties file, {@code FLEET_*} environment variables and
 * {@code --key=value} flags; validated as a whole at start-up. Unknown keys in the file or flags are
 * errors (a typo must not silently fall back to a default), except {@code kafka.*}, {@code
 * kafka.consumer.*} and {@code kafka.producer.*}, which are passed to the Kafka clients (security
 * settings, timeouts) and validated by them, except the few that would break the delivery guarantee
 * ({@link KafkaOverrides}). Every derived value (worker id, shm directory, thread plan, pinned CPUs,
 * fetch limits, ...) is concluded once in {@link #resolve} and read from here afterwards, as Aeron's
 * {@code Context.conclude()} does: immutable, validated once, each default defined once.
 */
public final class WorkerConfig {
    public static final ConfigKey<String> BOOTSTRAP_SERVERS = ConfigKey.string("bootstrap.servers", "localhost:9092",
            "Kafka bootstrap servers.");
    public static final ConfigKey<String> INPUT_TOPIC = ConfigKey.string("input.topic", "images",
            "Topic of inference requests.");
    public static final ConfigKey<String> RESULTS_TOPIC = ConfigKey.string("results.topic", "predictions",
            "Topic the results are written to.");
    public static final ConfigKey<String> GROUP_ID = ConfigKey.string("group.id", "inference-fleet",
            "Kafka consumer group shared by all workers.");
    public static final ConfigKey<Boolean> DEAD_LETTER = ConfigKey.bool("dead.letter.enabled", false,
            "Also copy every request that ends in ERROR to <input.topic>.DLT with error headers.");
    public static final ConfigKey<String> DELIVERY_GUARANTEE = ConfigKey.choice("delivery.guarantee",
            "at-least-once", List.of("at-least-once", "exactly-once"), "at-least-once: offsets committed after each"
            + " result is acknowledged (a killed worker's uncommitted requests are answered again: duplicates possible);"
            + " exactly-once: results, dead-letter copies and offsets in one Kafka transaction, input read"
            + " read_committed: each request's answer seen once by read_committed readers.");
    public static final ConfigKey<Integer> TRANSACTION_INTERVAL_MS = ConfigKey.integer("transaction.interval.ms", 100, 1,
            60_000, "exactly-once: a transaction commits this long after its first result (results become visible to"
            + " read_committed readers then).");
    public static final ConfigKey<Integer> TRANSACTION_MAX_RESULTS = ConfigKey.integer("transaction.max.results", 500, 1,
            100_000, "exactly-once: or as soon as it holds this many results.");
    public static final ConfigKey<String> MODEL_DIR = ConfigKey.string("model.dir", "models/resnet50",
            "Model directory: a PaddleClas export or `fleet model generate` output.");
    public static final ConfigKey<Integer> PREDICTOR_THREADS = ConfigKey.integerOrAuto("predictor.threads", 1, 256,
            "Predictor threads (one Paddle predictor each, sharing weights); auto: one per CPU of this worker's share of"
            + " its node (see workers.per.node).");
    public static final ConfigKey<Integer> DECODER_THREADS = ConfigKey.integer("decoder.threads", 0, 0, 1024,
            "Fetch+decode threads, each with its own shared-memory queue; 0 means one per predictor thread.");
    public static final ConfigKey<Integer> MATH_THREADS = ConfigKey.integerOrAuto("math.threads", 1, 256,
            "Paddle CPU math threads per predictor; auto: 1 (see benchmarks/results for why). On onnxruntime: the"
            + " intra-op threads of the one session all predictors share (math.threads - 1 threads, started on the"
            + " worker's node CPUs, not per predictor).");
    /** Value of {@link #PREDICTOR_ENGINE} that times both engines at start-up. */
    public static final String ENGINE_AUTO = "auto";
    public static final ConfigKey<String> PREDICTOR_ENGINE = ConfigKey.choice("predictor.engine", ENGINE_AUTO,
            List.of(ENGINE_AUTO, "paddle", "onnxruntime"), "Inference engine: paddle (Paddle's own), onnxruntime (Paddle's ONNX"
            + " Runtime backend; an error if paddle2onnx cannot convert the model) or auto (both timed at start on this CPU,"
            + " the faster kept; logged with the figures).");
    public static final ConfigKey<Integer> WORKERS_PER_NODE = ConfigKey.integer("workers.per.node", 1, 1, 1024,
            "Workers sharing this worker's NUMA node; auto thread counts divide the node's CPUs among them (fleet up"
            + " sets it).");
    public static final ConfigKey<String> PREDICTOR_PINNING = ConfigKey.choice("predictor.pinning", "node",
            List.of("node", "cpu"), "node: predictor threads float over the node's CPUs; cpu: predictor i is pinned to"
            + " the node's i-th CPU (needs numa.pin=true; no gain measured on 2 vCPUs, see benchmarks/results).");
    /**
     * Default 4, from measurement (ResNet-50, ONNX Runtime, 2 predictors, benchmarks/run-batch-benchmark.sh,
     * 2026-12-02, 2 vCPU Xeon): backlog 30.52 img/s against 27.88 at 1 (+9.5 %), open-loop p99 at 0.8 x the
     * batch-1 rate 136 against 138 ms; a lone tensor runs at once, so latency at low load is unchanged.
     */
    public static final ConfigKey<Integer> BATCH_MAX = ConfigKey.integer("predictor.batch.max", 4, 1,
            BatchPlan.MAX_MAX_TENSORS, "Most tensors a predictor runs as one batch, taken from those already waiting"
            + " in one lane (a lone tensor runs at once, in place); 1 turns batching off. Batches are copied into one"
            + " contiguous buffer (see README, Micro-batching). Left at its default, a model with a fixed batch size"
            + " runs without batching; set explicitly above 1, such a model is refused at start.");
    public static final ConfigKey<Integer> BATCH_DELAY_US = ConfigKey.integer("predictor.batch.delay.us", 0, 0,
            1_000_000, "When a predictor found a backlog (2 or more tensors) smaller than predictor.batch.max, how long"
            + " it waits for more before running what it has.");
    public static final ConfigKey<Integer> MAX_IN_FLIGHT = ConfigKey.integer("max.in.flight", 32, 1, 100_000,
            "Bound on requests accepted but not yet answered: partitions pause before it is reached.");
    public static final ConfigKey<Integer> RESUME_IN_FLIGHT = ConfigKey.integer("resume.in.flight", 16, 0, 100_000,
            "Paused partitions resume when in-flight requests drop to this low-water mark.");
    public static final ConfigKey<String> FILE_ROOTS = ConfigKey.optional("fetch.file.roots",
            "Comma-separated directories that file:// URIs may read from (default: none).");
    public static final ConfigKey<String> ALLOWED_HOSTS = ConfigKey.optional("fetch.allowed.hosts",
            "Comma-separated host[:port] that http(s):// URIs may fetch from (default: none).");
    public static final ConfigKey<Integer> MAX_IMAGE_BYTES = ConfigKey.integer("fetch.max.image.bytes",
            FetchConfig.DEFAULT_MAX_IMAGE_BYTES, 1, FetchConfig.MAX_MAX_IMAGE_BYTES, "Largest encoded image accepted.");
    public static final ConfigKey<Integer> FETCH_TIMEOUT_MS = ConfigKey.integer("fetch.timeout.ms",
            (int) FetchConfig.DEFAULT_READ_TIMEOUT_MS, 1, 600_000, "Time allowed to fetch one image, whole.");
    public static final ConfigKey<Long> MAX_IMAGE_PIXELS = ConfigKey.longInteger("image.max.pixels",
            PreprocessConfig.DEFAULT_MAX_PIXELS, 1, 1L << 40, "Largest image accepted, in pixels (from its header,"
            + " before decoding).");
    public static final ConfigKey<Double> MAX_ASPECT_RATIO = ConfigKey.decimal("image.max.aspect.ratio",
            PreprocessConfig.DEFAULT_MAX_ASPECT_RATIO, 1, 1e6, "Most extreme aspect ratio accepted (long side / short"
            + " side, from the header).");
    public static final ConfigKey<Integer> MAX_JPEG_SCANS = ConfigKey.integer("image.max.jpeg.scans",
            PreprocessConfig.DEFAULT_MAX_JPEG_SCANS, 1, 100_000, "Most scans accepted in a progressive JPEG (each costs a"
            + " pass over the image: a bound on decode time).");
    public static final ConfigKey<String> SHM_DIR = ConfigKey.optional("shm.dir",
            "Directory of the tensor queues (default: " + TensorQueueConfig.DEFAULT_ROOT + "/<worker.id>).");
    public static final ConfigKey<String> WORKER_ID = ConfigKey.optional("worker.id",
            "Name of this worker in results and logs (default: <host>-<pid>); when set, also its static group"
            + " membership (group.instance.id): a restart under the same id takes its partitions back without a"
            + " rebalance, so two running workers must never share one.");
    public static final ConfigKey<Integer> SHUTDOWN_TIMEOUT_MS = ConfigKey.integer("shutdown.timeout.ms", 30_000,
            0, 3_600_000, "How long shutdown and rebalances wait for in-flight requests before abandoning them.");

    public static final ConfigKey<Integer> NUMA_NODE = ConfigKey.integer("numa.node", 0, -1, 1023,
            "NUMA node this worker serves: every thread it starts (and Paddle's) runs on those of the node's CPUs the"
            + " process may use (numa.allowed.cpus); -1 serves every node that has such CPUs, one pipeline per node.");
    public static final ConfigKey<Boolean> NUMA_PIN = ConfigKey.bool("numa.pin", true,
            "Pin the worker's threads to the node's CPUs (false: leave scheduling to the OS).");
    public static final ConfigKey<String> NUMA_TOPOLOGY = ConfigKey.optional("numa.topology",
            "Override of the topology read from /sys, as node:cpulist;node:cpulist (for tests).");
    public static final ConfigKey<String> NUMA_ALLOWED_CPUS = ConfigKey.optional("numa.allowed.cpus",
            "Override of the CPUs this process may run on, as a cpulist (default: Cpus_allowed_list of"
            + " /proc/self/status, i.e. taskset or a Kubernetes cpuset); each node's CPUs are intersected with it.");

    public static final ConfigKey<Integer> METRICS_PORT = ConfigKey.integer("metrics.port", 9400, -1, 65535,
            "Port of /metrics (Prometheus), /health and /ready; 0 picks a free port, -1 turns the server off.");
    public static final ConfigKey<String> METRICS_HOST = ConfigKey.string("metrics.host", "0.0.0.0",
            "Address the metrics server listens on.");

    static final List<ConfigKey<?>> KEYS = List.of(BOOTSTRAP_SERVERS, INPUT_TOPIC, RESULTS_TOPIC, GROUP_ID, DEAD_LETTER,
            DELIVERY_GUARANTEE, TRANSACTION_INTERVAL_MS, TRANSACTION_MAX_RESULTS,
            MODEL_DIR, PREDICTOR_ENGINE, PREDICTOR_THREADS, DECODER_THREADS, MATH_THREADS, PREDICTOR_PINNING,
            WORKERS_PER_NODE, BATCH_MAX, BATCH_DELAY_US, MAX_IN_FLIGHT, RESUME_IN_FLIGHT, FILE_ROOTS, ALLOWED_HOSTS,
            MAX_IMAGE_BYTES, FETCH_TIMEOUT_MS, MAX_IMAGE_PIXELS, MAX_ASPECT_RATIO, MAX_JPEG_SCANS, SHM_DIR, WORKER_ID,
            SHUTDOWN_TIMEOUT_MS, NUMA_NODE, NUMA_PIN, NUMA_TOPOLOGY, NUMA_ALLOWED_CPUS, METRICS_PORT, METRICS_HOST);

    /** Keys with these prefixes go to the Kafka clients unchanged (security settings, timeouts, ...). */
    static final String KAFKA_BOTH = "kafka.";
    static final String KAFKA_CONSUMER = "kafka.consumer.";
    static final String KAFKA_PRODUCER = "kafka.producer.";

    private final Map<String, Object> values;
    private final Map<String, String> origins;
    private final Map<String, String> kafka;
    // Concluded once, from the values above: nothing below is computed again after resolve().
    private final String workerId;
    private final Path shmDir;
    private final BitSet allowedCpus;
    private final NumaTopology topology;
    private final java.util.Set<Integer> nodesWithoutAllowedCpus;
    private final int numaNode;
    private final BitSet pinnedCpus;
    private final ThreadPlan threadPlan;
    private final FetchConfig fetch;
    private final int maxPollRecords;
    private final boolean exactlyOnce;
    private final int maxRequestBytes;
    private final int transactionTimeoutMs;

    private WorkerConfig(Map<String, Object> values, Map<String, String> origins, Map<String, String> kafka) {
        this.values = Collections.unmodifiableMap(values);
        this.origins = Collections.unmodifiableMap(origins);
        this.kafka = Collections.unmodifiableMap(kafka);
        this.exactlyOnce = get(DELIVERY_GUARANTEE).equals("exactly-once");
        KafkaOverrides.check(this.kafka, exactlyOnce);
        if (get(RESUME_IN_FLIGHT) >= get(MAX_IN_FLIGHT)) {
            throw new IllegalArgumentException("Invalid value " + get(RESUME_IN_FLIGHT) + " for resume.in.flight: must be"
                    + " below max.in.flight (" + get(MAX_IN_FLIGHT) + ")");
        }
        this.workerId = get(WORKER_ID).isBlank() ? hostName() + "-" + ProcessHandle.current().pid() : get(WORKER_ID);
        this.shmDir = get(SHM_DIR).isBlank() ? TensorQueueConfig.DEFAULT_ROOT.resolve(workerId) : Path.of(get(SHM_DIR));
        NumaTopology machine = get(NUMA_TOPOLOGY).isBlank() ? NumaTopology.detect() : NumaTopology.parse(get(NUMA_TOPOLOGY));
        this.allowedCpus = concludeAllowedCpus();
        this.topology = machine.restrictedTo(allowedCpus);
        this.nodesWithoutAllowedCpus = machine.nodesWithout(topology);
        this.numaNode = concludeNumaNode(machine);
        this.pinnedCpus = !get(NUMA_PIN) || numaNode < 0 ? null : topology.cpus(numaNode);
        this.threadPlan = concludeThreadPlan();
        if (threadPlan.pinning() == ThreadPlan.Pinning.CPU && pinnedCpus == null) {
            throw new IllegalArgumentException("Invalid value cpu for predictor.pinning: needs numa.pin=true and a single"
                    + " numa.node (got numa.pin=" + get(NUMA_PIN) + ", numa.node=" + numaNode + ")");
        }
        this.fetch = concludeFetch();
        // Small polls (a quarter of the bound) let intake pause before the bound, not after it.
        this.maxPollRecords = Math.max(1, get(MAX_IN_FLIGHT) / 4);
        this.maxRequestBytes = concludeMaxRequestBytes();
        this.transactionTimeoutMs = positiveProducerInt("transaction.timeout.ms", DEFAULT_TRANSACTION_TIMEOUT_MS);
        if (exactlyOnce && 2L * get(TRANSACTION_INTERVAL_MS) > transactionTimeoutMs) {
            // Measured: a 6 s interval under a 5 s timeout had the coordinator abort (fence) the open transaction.
            throw new IllegalArgumentException("Invalid value " + get(TRANSACTION_INTERVAL_MS) + " for transaction.interval.ms:"
                    + " must be at most half of the producer's transaction.timeout.ms (" + transactionTimeoutMs + "), or the"
                    + " transaction coordinator aborts open transactions before they commit");
        }
    }

    /**
     * The exactly-once producer's {@code transaction.timeout.ms} unless {@code kafka.producer.*} sets it:
     * 10 s, Kafka Streams' choice for EOS (Kafka's own default, 60 s, would hold read_committed readers and the
     * next owner's offset fetch that long after a worker dies).
     */
    public static final int DEFAULT_TRANSACTION_TIMEOUT_MS = 10_000;

    /** The exactly-once producer's {@code transaction.timeout.ms}. */
    public int transactionTimeoutMs() {
        return transactionTimeoutMs;
    }

    private int positiveProducerInt(String key, int defaultValue) {
        Object value = kafkaProducer().get(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            int parsed = Integer.parseInt(value.toString().trim());
            if (parsed > 0) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // named below
        }
        throw new IllegalArgumentException("Invalid value " + value + " for kafka.producer." + key + ": must be a positive"
                + " integer");
    }

    private int concludeMaxRequestBytes() {
        return positiveProducerInt("max.request.size", 1_048_576);  // Kafka's default
    }

    /** {@code delivery.guarantee=exactly-once}. */
    public boolean exactlyOnce() {
        return exactlyOnce;
    }

    /**
     * Exactly-once: the producer's {@code transactional.id}, {@code <group.id>-<worker id>}: stable across
     * restarts when {@code worker.id} is set (fleet up sets it), so that a restart aborts its crashed
     * incarnation's open transaction at once; unique per running worker, as worker ids must be.
     */
    public String transactionalId() {
        return get(GROUP_ID) + "-" + workerId;
    }

    /** The results producer's {@code max.request.size} ({@code kafka.producer.max.request.size}, else Kafka's default). */
    public int maxRequestBytes() {
        return maxRequestBytes;
    }

    /**
     * Resolves every key and concludes every derived value, validating once.
     *
     * @param file optional properties file (null for none)
     * @param env the environment (normally {@code System.getenv()})
     * @param flags {@code key=value} pairs from the command line
     * @throws IllegalArgumentException naming the bad key and value
     */
    public static WorkerConfig resolve(Path file, Map<String, String> env, Map<String, String> flags) {
        Map<String, String> raw = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        Map<String, String> kafka = new LinkedHashMap<>();
        for (ConfigKey<?> key : KEYS) {
            raw.put(key.name(), key.defaultValue());
            origins.put(key.name(), "default");
        }
        if (file != null) {
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file)) {
                properties.load(reader);
            } catch (IOException e) {
                throw new IllegalArgumentException("Cannot read configuration file " + file + ": " + e.getMessage(), e);
            }
            for (String name : properties.stringPropertyNames()) {
                if (name.startsWith(KAFKA_BOTH)) {
                    kafka.put(name, properties.getProperty(name));
                    continue;
                }
                requireKnown(name, "file " + file);
                raw.put(name, properties.getProperty(name));
                origins.put(name, "file " + file);
            }
        }
        for (ConfigKey<?> key : KEYS) {
            String value = env.get(key.envName());
            if (value != null) {
                raw.put(key.name(), value);
                origins.put(key.name(), "env " + key.envName());
            }
        }
        for (Map.Entry<String, String> flag : flags.entrySet()) {
            if (flag.getKey().startsWith(KAFKA_BOTH)) {
                kafka.put(flag.getKey(), flag.getValue());
                continue;
            }
            requireKnown(flag.getKey(), "flag --" + flag.getKey());
            raw.put(flag.getKey(), flag.getValue());
            origins.put(flag.getKey(), "flag --" + flag.getKey());
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (ConfigKey<?> key : KEYS) {
            values.put(key.name(), key.parse(raw.get(key.name()), origins.get(key.name())));
        }
        return new WorkerConfig(values, origins, kafka);
    }

    /** Whether {@code key} was given (file, environment or flag) rather than left at its default. */
    public boolean isSet(ConfigKey<?> key) {
        return origins.containsKey(key.name());
    }

    @SuppressWarnings("unchecked")
    public <T> T get(ConfigKey<T> key) {
        return (T) values.get(key.name());
    }

    /** {@code worker.id}, or {@code <host>-<pid>} when not set. */
    public String workerId() {
        return workerId;
    }

    /**
     * The threads of this worker's pipeline: {@code auto} keys resolved by {@link ThreadPlan#recommended}
     * for this worker's share of the CPUs it runs on (its node's when pinned, else the JVM's, divided by
     * {@code workers.per.node}), {@code decoder.threads=0} resolved to one per predictor.
     */
    public ThreadPlan threadPlan() {
        return threadPlan;
    }

    /** {@code predictor.batch.max} and {@code predictor.batch.delay.us}. */
    public BatchPlan batchPlan() {
        return new BatchPlan(get(BATCH_MAX), get(BATCH_DELAY_US) * 1_000L);
    }

    /** Whether {@code predictor.threads} or {@code math.threads} was left to {@code auto}. */
    public boolean autoThreads() {
        return get(PREDICTOR_THREADS) == ConfigKey.AUTO || get(MATH_THREADS) == ConfigKey.AUTO;
    }

    /** {@code shm.dir}, or {@code /dev/shm/inference-fleet/<worker id>} when not set. */
    public Path shmDir() {
        return shmDir;
    }

    /**
     * The node this worker serves: {@code numa.node}, or when that was left at its default and node 0
     * has none of the allowed CPUs, the lowest node that has; -1 for every node.
     */
    public int numaNode() {
        return numaNode;
    }

    /** The node's CPUs when pinning is on (and one node is served), else null. A copy: the caller may change it. */
    public BitSet pinnedCpus() {
        return pinnedCpus == null ? null : (BitSet) pinnedCpus.clone();
    }

    /**
     * The NUMA nodes this worker may use, each with only the CPUs it may run on: {@code numa.topology}
     * when given, else read from /sys (once), intersected with {@link #allowedCpus()}; nodes left
     * without a CPU are not in it ({@link #nodesWithoutAllowedCpus()}).
     */
    public NumaTopology topology() {
        return topology;
    }

    /** {@code numa.allowed.cpus}, else this process's {@code Cpus_allowed_list} as read once at resolve. A copy. */
    public BitSet allowedCpus() {
        return (BitSet) allowedCpus.clone();
    }

    /** The machine's nodes none of whose CPUs this process may run on: skipped by {@code numa.node=-1} and {@code fleet up}. */
    public java.util.Set<Integer> nodesWithoutAllowedCpus() {
        return nodesWithoutAllowedCpus;
    }

    /** Where images may come from and how much of them is read ({@code fetch.*}). */
    public FetchConfig fetch() {
        return fetch;
    }

    /** {@code preprocess} with the {@code image.*} limits on hostile images applied. */
    public PreprocessConfig withImageLimits(PreprocessConfig preprocess) {
        return preprocess.withMaxPixels(get(MAX_IMAGE_PIXELS)).withMaxAspectRatio(get(MAX_ASPECT_RATIO))
                .withMaxJpegScans(get(MAX_JPEG_SCANS));
    }

    /** {@code max.poll.records} of the consumer: a quarter of {@code max.in.flight}. */
    public int maxPollRecords() {
        return maxPollRecords;
    }

    /** Settings for the Kafka consumer: {@code kafka.X} and {@code kafka.consumer.X} as {@code X}. */
    public Map<String, Object> kafkaConsumer() {
        return kafkaSettings(KAFKA_CONSUMER, KAFKA_PRODUCER);
    }

    /** Settings for the Kafka producer: {@code kafka.X} and {@code kafka.producer.X} as {@code X}. */
    public Map<String, Object> kafkaProducer() {
        return kafkaSettings(KAFKA_PRODUCER, KAFKA_CONSUMER);
    }

    private Map<String, Object> kafkaSettings(String mine, String theirs) {
        Map<String, Object> result = new LinkedHashMap<>();
        kafka.forEach((k, v) -> {
            if (k.startsWith(mine)) {
                result.put(k.substring(mine.length()), v);
            } else if (!k.startsWith(theirs)) {
                result.putIfAbsent(k.substring(KAFKA_BOTH.length()), v);
            }
        });
        return result;
    }

    public String deadLetterTopic() {
        return get(INPUT_TOPIC) + ".DLT";
    }

    /**
     * What differs between the workers that share a configuration ({@code numa.node=-1} in one JVM,
     * or {@code fleet up}'s JVMs): worker {@code ordinal} (0, 1, ...) is named {@code id}, listens on
     * {@code metrics.port + ordinal} (0 and -1 stay as they are: a free port, no server), and keeps
     * its queues in {@code <shm.dir>/<id>} when {@code shm.dir} is set (its default already holds the
     * id). The one place both derive these from.
     */
    public Slot slot(String id, int ordinal) {
        int port = get(METRICS_PORT);
        return new Slot(id, port > 0 ? port + ordinal : port, get(SHM_DIR).isBlank() ? null : Path.of(get(SHM_DIR), id));
    }

    /** One worker's own settings among several sharing a configuration; see {@link #slot}. */
    public record Slot(String workerId, int metricsPort, Path shmDir) {
        /** The settings as {@code key=value} flags, which take precedence over file and environment. */
        public Map<String, String> flags() {
            Map<String, String> flags = new LinkedHashMap<>();
            flags.put(WORKER_ID.name(), workerId);
            flags.put(METRICS_PORT.name(), Integer.toString(metricsPort));
            if (shmDir != null) {
                flags.put(SHM_DIR.name(), shmDir.toString());
            }
            return flags;
        }
    }

    /** One line per key, "name = value (origin)", for the start-up log; secrets are masked. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (ConfigKey<?> key : KEYS) {
            sb.append(key.name()).append(" = ").append(values.get(key.name()))
                    .append("  (").append(origins.get(key.name())).append(")\n");
        }
        kafka.forEach((k, v) -> sb.append(k).append(" = ").append(Secrets.mask(k, v)).append('\n'));
        sb.append("(concluded) worker id = ").append(workerId).append(", shm dir = ").append(shmDir)
                .append(", numa node = ").append(numaNode)
                .append(", threads = ").append(threadPlan).append(", allowed cpus = ")
                .append(NumaTopology.cpuList(allowedCpus)).append(nodesWithoutAllowedCpus.isEmpty() ? ""
                        : ", nodes skipped (no allowed cpu) = " + nodesWithoutAllowedCpus)
                .append(", pinned cpus = ").append(pinnedCpus)
                .append(", max.poll.records = ").append(maxPollRecords).append('\n');
        return sb.toString();
    }

    /** Help text of every key, for {@code fleet worker --help}. */
    public static String documentation() {
        return KEYS.stream().map(k -> String.format("  %-24s %s (default: %s; env %s)", k.name(), k.doc(),
                k.defaultValue().isEmpty() ? "derived" : k.defaultValue(), k.envName())).collect(Collectors.joining("\n"));
    }

    private BitSet concludeAllowedCpus() {
        if (get(NUMA_ALLOWED_CPUS).isBlank()) {
            return AllowedCpus.ofThisProcess();
        }
        BitSet cpus;
        try {
            cpus = NumaTopology.parseCpuList(get(NUMA_ALLOWED_CPUS));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value '" + get(NUMA_ALLOWED_CPUS) + "' for numa.allowed.cpus: "
                    + e.getMessage(), e);
        }
        if (cpus.isEmpty()) {
            throw new IllegalArgumentException("Invalid value '" + get(NUMA_ALLOWED_CPUS) + "' for numa.allowed.cpus: no CPU");
        }
        return cpus;
    }

    /**
     * {@code numa.node}, checked against the allowed CPUs. A node set explicitly must have one of them
     * (else the error names the node and the allowed set); left at its default (0), it becomes the
     * lowest node that has one, so that a worker in a cpuset on another node (Kubernetes' static CPU
     * manager with the single-numa-node policy) starts without configuration.
     */
    private int concludeNumaNode(NumaTopology machine) {
        int node = get(NUMA_NODE);
        if (node < 0 || topology.hasNode(node)) {
            return node;
        }
        machine.cpus(node);  // a node the machine does not have: the error lists those it has
        if (origins.get(NUMA_NODE.name()).equals("default")) {
            return topology.nodes().keySet().iterator().next();
        }
        throw new IllegalArgumentException("Invalid value " + node + " for numa.node: none of node " + node + "'s CPUs ("
                + NumaTopology.cpuList(machine.cpus(node)) + ") is among the CPUs this process may run on ("
                + NumaTopology.cpuList(allowedCpus) + ", from " + allowedOrigin() + ")");
    }

    private String allowedOrigin() {
        return get(NUMA_ALLOWED_CPUS).isBlank() ? "Cpus_allowed_list of /proc/self/status" : "numa.allowed.cpus";
    }

    private ThreadPlan concludeThreadPlan() {
        // Unpinned: the JVM's count, which already honours the affinity mask (and a cgroup CPU quota).
        int available = pinnedCpus != null ? pinnedCpus.cardinality() : Runtime.getRuntime().availableProcessors();
        ThreadPlan auto = ThreadPlan.recommended(Math.max(1, available / get(WORKERS_PER_NODE)));
        int predictors = get(PREDICTOR_THREADS) == ConfigKey.AUTO ? auto.predictors() : get(PREDICTOR_THREADS);
        int math = get(MATH_THREADS) == ConfigKey.AUTO ? auto.mathThreads() : get(MATH_THREADS);
        int decoders = get(DECODER_THREADS) == 0 ? predictors : get(DECODER_THREADS);
        if (decoders < predictors) {
            // The one check of "decoders >= predictors" that names the keys: every predictor reads its own decoders' queues.
            throw new IllegalArgumentException("Invalid value " + decoders + " for decoder.threads: must be 0 or at least"
                    + " predictor.threads (" + predictors + (get(PREDICTOR_THREADS) == ConfigKey.AUTO ? ", auto" : "") + ")");
        }
        return new ThreadPlan(predictors, math, decoders, ThreadPlan.Pinning.parse(get(PREDICTOR_PINNING)));
    }

    private FetchConfig concludeFetch() {
        List<Path> roots = split(get(FILE_ROOTS)).stream().map(Path::of).collect(Collectors.toList());
        for (Path root : roots) {
            if (!Files.isDirectory(root)) {
                throw new IllegalArgumentException("Invalid value " + root + " in fetch.file.roots: not a directory");
            }
        }
        try {
            return FetchConfig.defaults()
                    .withFileRoots(roots)
                    .withAllowedHosts(split(get(ALLOWED_HOSTS)))
                    .withReadTimeoutMs(get(FETCH_TIMEOUT_MS))
                    .withMaxImageBytes(get(MAX_IMAGE_BYTES));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Invalid fetch.* setting: " + e.getMessage(), e);
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static void requireKnown(String name, String origin) {
        if (KEYS.stream().noneMatch(k -> k.name().equals(name))) {
            throw new IllegalArgumentException("Unknown configuration key '" + name + "' (from " + origin + "); known keys: "
                    + KEYS.stream().map(ConfigKey::name).collect(Collectors.joining(", ")));
        }
    }

    private static List<String> split(String list) {
        List<String> items = new ArrayList<>();
        Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(items::add);
        return items;
    }
}
