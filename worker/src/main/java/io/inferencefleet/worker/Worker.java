package io.inferencefleet.worker;

import io.inferencefleet.messages.InferenceResult.ModelRef;
import io.inferencefleet.paddle.Engine;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.shm.StaleQueues;
import io.inferencefleet.shm.TensorQueueConfig;
import io.inferencefleet.worker.config.BatchPlan;
import io.inferencefleet.worker.config.ThreadPlan;
import io.inferencefleet.worker.config.WorkerConfig;
import io.inferencefleet.worker.fetch.ImageFetcher;
import io.inferencefleet.worker.intake.Intake;
import io.inferencefleet.worker.job.Acknowledgements;
import io.inferencefleet.worker.job.RefusedRecords;
import io.inferencefleet.worker.lane.Pipeline;
import io.inferencefleet.worker.metrics.MetricsServer;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.preprocess.PaddleClasConfig;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.publish.ResultFactory;
import io.inferencefleet.worker.intake.Transactions;
import io.inferencefleet.worker.publish.ResultPublisher;
import io.inferencefleet.worker.publish.StagingSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import net.openhft.affinity.Affinity;
import org.agrona.concurrent.SystemEpochClock;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker process's pipeline, wired in one visible place (follow the data):
 * <pre>
 *   intake (Kafka consumer) ─► decoder-d (fetch, OpenCV into its shm queue) ─► predictor-(d mod P) (Paddle reads shm)
 *        ▲                                                                          │
 *        └──── commit acknowledged offsets ◄── results publisher (Kafka producer) ◄─┘
 * </pre>
 * {@link #start(WorkerConfig)} returns once every thread runs; {@link #close()} stops taking
 * requests, waits (bounded) for in-flight results, commits, and releases everything.
 *
 * <p>With {@code numa.pin} (the default) the calling thread is pinned to the node's CPUs before
 * anything else is created, so every thread the worker starts inherits them; threads the JVM
 * started earlier (GC, JIT) are not affected: launch the JVM under {@code taskset} for those
 * ({@code fleet up} does).
 */
public final class Worker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

    /** Dead workers' queue directories older than this are removed at start (a restart reuses its own at once). */
    static final java.time.Duration STALE_QUEUE_AGE = java.time.Duration.ofMinutes(10);

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Intake intake;
    private final Thread intakeThread;
    private final Pipeline pipeline;
    private final ImageFetcher fetcher;
    private final Acknowledgements acks = new Acknowledgements();
    private final MetricsServer metricsServer;
    private final Path shmDir;
    private boolean closed;

    private Worker(WorkerConfig config, UnaryOperator<Producer<byte[], byte[]>> transactionalProducer) {
        String workerId = config.workerId();
        this.shmDir = config.shmDir();
        LOG.info("event=worker_starting worker_id={}\n{}", workerId, config.describe());
        BitSet cpus = config.pinnedCpus();
        if (cpus != null) {
            // Pin this thread first: every thread created from here on (intake, lanes, Kafka's
            // client threads, Paddle's math threads, Chronicle's) inherits the node's CPUs.
            Affinity.setAffinity(cpus);
            LOG.info("event=worker_pinned numa_node={} cpus={}", config.numaNode(), cpus);
        }
        ThreadPlan plan = config.threadPlan();
        LOG.info("event=thread_plan predictors={} math_threads={} decoders={} pinning={} auto={}", plan.predictors(),
                plan.mathThreads(), plan.decoders(), plan.pinning(), config.autoThreads());
        try {
            // Wired in one pass, in the order the data flows back to front: what a stage answers
            // through exists before the stage.
            ModelFiles model = ModelFiles.inDirectory(Path.of(config.get(WorkerConfig.MODEL_DIR)));
            PaddleClasConfig clas = model.inferenceConfig()
                    .map(yml -> PaddleClasConfig.read(yml, PreprocessConfig.imageNet()))
                    .orElse(PaddleClasConfig.defaults(PreprocessConfig.imageNet()));
            PreprocessConfig preprocess = config.withImageLimits(clas.preprocess());
            long labelled = clas.labels().stream().filter(java.util.Objects::nonNull).count();
            clas.missingLabelFile().ifPresentOrElse(named -> LOG.warn("event=label_file_missing class_id_map_file={}"
                    + " looked_in={} effect=\"results carry no labels\"", named, model.modelFile().getParent()),
                    () -> LOG.info("event=labels file={} classes={}", clas.labelFile().orElse(null), labelled));
            int[] chw = preprocess.chwShape();
            PredictorLoader.Loaded loaded = PredictorLoader.load(config.get(WorkerConfig.PREDICTOR_ENGINE),
                    PredictorConfig.builder(model.modelFile(), model.paramsFile()).mathThreads(plan.mathThreads()),
                    new int[] {1, chw[0], chw[1], chw[2]});
            Predictor original = loaded.predictor();
            resources.add(original);
            LOG.info("event=predictor_engine engine={} requested={} why=\"{}\"", loaded.engine().key(),
                    config.get(WorkerConfig.PREDICTOR_ENGINE), loaded.reason());
            List<Path> stale = StaleQueues.remove(TensorQueueConfig.DEFAULT_ROOT, STALE_QUEUE_AGE);
            if (!stale.isEmpty()) {
                LOG.info("event=stale_queues_removed count={} dirs={}", stale.size(), stale);
            }
            ImageFetcher fetcher = new ImageFetcher(config.fetch());
            resources.add(fetcher);
            WorkerMetrics metrics = new WorkerMetrics();
            metrics.watchFetcher(fetcher::stuckFileReaders, fetcher::unexpectedFailures);
            this.fetcher = fetcher;
            metrics.engine(original.engine().key());

            ResultFactory results = new ResultFactory(modelRef(model, original.engine()), workerId, config.get(WorkerConfig.INPUT_TOPIC),
                    clas.labels(), clas.topK());
            String deadLetterTopic = config.get(WorkerConfig.DEAD_LETTER) ? config.deadLetterTopic() : null;
            ResultPublisher.Source source = new ResultPublisher.Source(config.get(WorkerConfig.INPUT_TOPIC),
                    config.get(WorkerConfig.GROUP_ID));
            // At-least-once: the answering threads write the results. Exactly-once: they stage them on the
            // job, and the intake thread writes them with the offsets in its transactions.
            RefusedRecords refused = new RefusedRecords();
            ResultPublisher publisher = config.exactlyOnce()
                    ? new ResultPublisher(new StagingSink(config.maxRequestBytes(), refused),
                            config.get(WorkerConfig.RESULTS_TOPIC), deadLetterTopic, source, results, acks, metrics)
                    : new ResultPublisher(config.get(WorkerConfig.BOOTSTRAP_SERVERS), workerId,
                            config.get(WorkerConfig.RESULTS_TOPIC), deadLetterTopic, source, config.kafkaProducer(),
                            results, acks, metrics);
            // Closed in reverse: the intake first, the pipeline before the publisher it answers through,
            // the publisher before the original predictor.
            resources.add(publisher);
            int maxInFlight = config.get(WorkerConfig.MAX_IN_FLIGHT);
            BatchPlan batching = Pipeline.batchingFor(original.inputs().get(0), config.batchPlan(),
                    config.isSet(WorkerConfig.BATCH_MAX));
            pipeline = new Pipeline(plan, batching, workerId, config.shmDir(), maxInFlight, original, preprocess, fetcher,
                    publisher, predictorCpus(cpus, plan), SystemEpochClock.INSTANCE, metrics);
            resources.add(pipeline);
            int port = config.get(WorkerConfig.METRICS_PORT);
            metricsServer = port < 0 ? null
                    : new MetricsServer(config.get(WorkerConfig.METRICS_HOST), port, metrics, this::healthy, this::ready);
            if (metricsServer != null) {
                resources.add(metricsServer);
                LOG.info("event=metrics_listening url=http://{}:{}/metrics", config.get(WorkerConfig.METRICS_HOST),
                        metricsServer.port());
            }
            Transactions transactions = null;
            if (config.exactlyOnce()) {
                transactions = new Transactions(transactionalProducer.apply(new KafkaProducer<>(
                        ResultPublisher.transactionalProducerProperties(config.get(WorkerConfig.BOOTSTRAP_SERVERS),
                                workerId, config.transactionalId(), config.transactionTimeoutMs(),
                                config.kafkaProducer()))),
                        config.get(WorkerConfig.TRANSACTION_INTERVAL_MS),
                        config.get(WorkerConfig.TRANSACTION_MAX_RESULTS), metrics, refused);
                resources.add(transactions);  // the intake closes it; this closes it if the intake never ran
            }
            // Nothing below throws once the consumer exists: the intake thread owns and closes it.
            KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties(config, workerId));
            intake = new Intake(consumer, config.get(WorkerConfig.INPUT_TOPIC), pipeline.lanes(), publisher, acks,
                    pipeline::alive, maxInFlight, config.get(WorkerConfig.RESUME_IN_FLIGHT), config.maxPollRecords(),
                    config.get(WorkerConfig.SHUTDOWN_TIMEOUT_MS), metrics, transactions);
            pipeline.start();
            intakeThread = new Thread(intake, "intake");
            intakeThread.start();
            LOG.info("event=worker_started worker_id={} decoders={} model={} preprocess=\"{}\"", workerId,
                    pipeline.lanes().size(), model.modelFile().getParent(), preprocess);
        } catch (RuntimeException e) {
            closeResources();
            throw e;
        }
    }

    public static Worker start(WorkerConfig config) {
        return new Worker(config, UnaryOperator.identity());
    }

    /** Tests: the exactly-once producer wrapped by {@code transactionalProducer} (to inject a failure or a freeze). */
    static Worker start(WorkerConfig config, UnaryOperator<Producer<byte[], byte[]>> transactionalProducer) {
        return new Worker(config, transactionalProducer);
    }

    /** Port of the metrics server, or -1 when it is off. */
    public int metricsPort() {
        return metricsServer == null ? -1 : metricsServer.port();
    }

    /** True until the intake stops (after {@link #close()}, a fatal write error or a dead agent). */
    public boolean isRunning() {
        return intakeThread.isAlive();
    }

    /** {@code /health}: the intake and every agent thread run. */
    public boolean healthy() {
        Thread thread = intakeThread;  // null until the constructor has started it
        return thread != null && thread.isAlive() && pipeline.alive();
    }

    /** {@code /ready}: partitions assigned, results can be written, every agent runs, file reads are possible. */
    public boolean ready() {
        Intake running = intake;
        return running != null && running.ready() && !fetcher.allFileReadersStuck();
    }

    /** The exit code for a worker that stopped on its own ({@link WorkerExit}). */
    public int exitCode() {
        Throwable fatal = acks.fatal();
        if (fatal != null && Transactions.fenced(fatal)) {
            return WorkerExit.FENCED;
        }
        return fatal != null && ResultPublisher.refusedForGood(fatal) ? WorkerExit.KAFKA_REFUSED : WorkerExit.FAILED;
    }

    /** Why the worker stopped on its own, in one line (null while it runs normally). */
    public String stopReason() {
        return intake.stopReason();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        intake.stop();
        // Wait for the intake even when interrupted: closing the pipeline under it would let it hand
        // jobs to closed lanes. Its own stop is bounded by shutdown.timeout.ms.
        boolean interrupted = false;
        while (intakeThread.isAlive()) {
            try {
                intakeThread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        closeResources();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(shmDir);  // the lanes removed their queues; drop the emptied worker directory
        } catch (IOException e) {
            LOG.warn("event=shm_dir_left dir={} error=\"{}\"", shmDir, e.toString());
        }
        LOG.info("event=worker_stopped");
    }

    private void closeResources() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.warn("event=close_failed resource={} error=\"{}\"", resources.get(i), e.toString());
            }
        }
        resources.clear();
    }

    /** Predictor i's CPUs: the node's, or with {@code predictor.pinning=cpu} the node's i-th CPU (round-robin). */
    static IntFunction<BitSet> predictorCpus(BitSet nodeCpus, ThreadPlan plan) {
        if (nodeCpus == null) {
            return i -> null;
        }
        if (plan.pinning() == ThreadPlan.Pinning.NODE) {
            return i -> nodeCpus;
        }
        int[] cpus = nodeCpus.stream().toArray();
        return i -> {
            BitSet one = new BitSet();
            one.set(cpus[i % cpus.length]);
            return one;
        };
    }

    private static Properties consumerProperties(WorkerConfig config, String workerId) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.get(WorkerConfig.BOOTSTRAP_SERVERS));
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.get(WorkerConfig.GROUP_ID));
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, workerId);
        if (!config.get(WorkerConfig.WORKER_ID).isBlank()) {
            // Static membership: a worker restarted under its id (fleet up, a StatefulSet) takes its
            // partitions back without a rebalance; the others keep going. Measured without it: one
            // kill -9 under fleet up stopped the whole group for about 38 s (benchmarks/results/chaos-*).
            props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, workerId);
        }
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxPollRecords());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.putAll(config.kafkaConsumer());
        if (config.exactlyOnce()) {
            // Requests written in aborted transactions are no requests; and an upstream EOS pipeline's
            // open transactions must not be answered before they commit.
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        }
        return props;
    }

    /** The model's name (its directory), a short hash of its program and parameter size, and the engine running it. */
    private static ModelRef modelRef(ModelFiles model, Engine engine) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(model.modelFile()));
            sha.update(Long.toString(Files.size(model.paramsFile())).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new ModelRef(model.modelFile().toAbsolutePath().getParent().getFileName().toString(),
                    "sha256:" + HexFormat.of().formatHex(sha.digest()).substring(0, 12), engine.key());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
