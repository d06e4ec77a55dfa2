package io.inferencefleet.benchmarks.peer;

import ai.djl.Device;
import ai.djl.ModelException;
import ai.djl.engine.Engine;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark <em>peer</em>: a Kafka inference worker written the way an ordinary Java developer
 * would write it on DJL 0.27.0's PaddlePaddle engine (Paddle Inference 2.3.2, DJL's own native
 * jar), to compare our pipeline against. Not tuned, not a strawman:
 * <ul>
 *   <li>one {@link KafkaConsumer} thread ({@code enable.auto.commit=false},
 *       {@code max.poll.records} = 2 x threads) hands each poll's records to a fixed pool of
 *       {@code --threads} threads, each with its own DJL {@code Predictor} (a Paddle
 *       {@code Clone()} sharing the weights);</li>
 *   <li>images are decoded with DJL's {@code ImageFactory} (ImageIO) and pre-processed by
 *       {@link ImageNetTranslator} (DJL's {@code Image} resize/crop/toNDArray, see there why not
 *       {@code ImageClassificationTranslator});</li>
 *   <li>when every record of the batch has its result sent and acknowledged, {@code commitSync()};</li>
 *   <li>one result per request (the project's {@link MessageCodec} JSON, key = request key); a bad
 *       request, a URI other than {@code file://} under {@code --file.root}, a missing or
 *       undecodable file each give an ERROR result ({@link RequestHandler} codes). Deadlines
 *       ({@code deadlineMs}) are not honoured: no EXPIRED results.</li>
 * </ul>
 * Paddle math threads per predictor: {@code --math.threads}, passed as DJL's PaddlePaddle model
 * option {@code CMLNumThreads} ({@code SetCpuMathLibraryNumThreads}); option {@code DisableGlog}
 * ({@code DisableGlogInfo}) silences Paddle's IR-pass banners. IR optimisation stays at Paddle's default (on).
 *
 * <p><b>Environment.</b> Launch it with {@code OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1
 * GLOG_minloglevel=2}: Paddle's statically linked OpenBLAS reads them when the library loads (our
 * own worker sets them through a preload library; DJL has nothing of the kind). Without
 * {@code OPENBLAS_CORETYPE} OpenBLAS picks generic kernels on these VMs and ResNet-50 runs about
 * 1.8x slower, so a WARN line is printed when it is unset.
 *
 * <p><b>Offline.</b> Nothing is downloaded: DJL's {@code LibUtils} finds
 * {@code native/lib/paddlepaddle.properties} of the {@code paddlepaddle-native-cpu} jar on the class
 * path, extracts the Paddle libraries to {@code <DJL cache>/paddle/2.3.2-20221103-cpu-linux-x86_64/}
 * and its JNI library {@code jnilib/linux-x86_64/cpu/libdjl_paddle.so} (from the engine jar) next to
 * them, once. Unless set, this class sets {@code ai.djl.offline=true} (DJL would otherwise try the EC2
 * metadata endpoint and a telemetry URL when the engine initialises), {@code OPT_OUT_TRACKING=true} and
 * {@code DJL_CACHE_DIR=target/djl-cache} (relative to the working directory).
 *
 * <p><b>By hand</b>, from the repository root after {@code mvn -pl benchmarks -am install -DskipTests}
 * (a broker: {@code ./fleet broker}; a model: {@code ./fleet model generate resnet50}):
 * <pre>{@code
 * OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 GLOG_minloglevel=2 \
 *   java @jvm.options -cp benchmarks/target/benchmarks.jar io.inferencefleet.benchmarks.peer.DjlWorker \
 *     --bootstrap.servers=127.0.0.1:9092 --input.topic=images --results.topic=predictions --group.id=djl-peer \
 *     --model.dir=models/resnet50 --file.root=/work/shared/images --threads=2 --math.threads=1
 * ./fleet submit --wait /work/shared/images
 * }</pre>
 * SIGTERM (Ctrl-C) finishes the batch in progress, commits it and closes; the exit status is then the
 * JVM's 143 (as for our worker). Exit code 2: bad flags; 1: a result could not be sent (nothing committed).
 */
public final class DjlWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DjlWorker.class);
    private static final int CLASSES = 1000;
    private static final String PADDLE = "PaddlePaddle";

    private final PeerSettings settings;
    private final ZooModel<Image, Classifications> model;
    private final RequestHandler handler;
    private final ExecutorService pool;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final MessageCodec codec = new MessageCodec();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicLong results = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean running = true;

    DjlWorker(PeerSettings settings) throws IOException, ModelException {
        this.settings = settings;
        ImageNetTranslator translator = new ImageNetTranslator(CLASSES);
        Criteria<Image, Classifications> criteria = Criteria.builder()
                .setTypes(Image.class, Classifications.class)
                .optEngine(PADDLE)
                .optDevice(Device.cpu())
                .optModelPath(settings.modelDir())
                .optOption("CMLNumThreads", Integer.toString(settings.mathThreads()))
                .optOption("DisableGlog", "true")  // else Paddle prints ~40 IR-pass banners per predictor
                .optTranslator(translator)
                .build();
        model = criteria.loadModel();
        handler = new RequestHandler(codec, model, translator, settings);
        AtomicInteger threadIds = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "djl-predictor-" + threadIds.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
        pool = Executors.newFixedThreadPool(settings.threads(), threads);
        // Every thread creates its predictor before the first poll.
        List<Future<?>> created = new ArrayList<>();
        CountDownLatch allThreads = new CountDownLatch(settings.threads());
        for (int i = 0; i < settings.threads(); i++) {
            created.add(pool.submit(() -> {
                handler.createPredictor();
                allThreads.countDown();
                allThreads.await();
                return null;
            }));
        }
        for (Future<?> f : created) {
            await(f);
        }

        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(2 * settings.threads()));
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, settings.workerId());
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumer = new KafkaConsumer<>(c);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, settings.workerId() + "-results");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producer = new KafkaProducer<>(p);
    }

    public static void main(String[] args) throws Exception {
        PeerSettings settings;
        try {
            settings = PeerSettings.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("djl-peer: " + e.getMessage());
            System.exit(2);
            return;
        }
        Map<String, String> djl = configureDjl();
        if (System.getenv("OPENBLAS_CORETYPE") == null) {
            LOG.warn("event=peer_env_warning OPENBLAS_CORETYPE is unset: Paddle's OpenBLAS may pick slow generic kernels;"
                    + " launch with OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 GLOG_minloglevel=2");
        }
        long start = System.nanoTime();
        DjlWorker worker = new DjlWorker(settings);
        LOG.info("event=peer_started {} engine={} engine_version={} djl_version={} {} openblas_coretype={}"
                        + " openblas_num_threads={} startup_ms={}", settings.describe(), PADDLE,
                Engine.getEngine(PADDLE).getVersion(), Engine.getDjlVersion(), format(djl), System.getenv("OPENBLAS_CORETYPE"),
                System.getenv("OPENBLAS_NUM_THREADS"), (System.nanoTime() - start) / 1_000_000);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.stop();
            try {
                worker.stopped.await(60, TimeUnit.SECONDS);
                main.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "djl-peer-shutdown"));
        worker.run();
    }

    /**
     * DJL reads these from system properties or the environment: offline mode (no downloads, no
     * telemetry), and the cache the native libraries are extracted to. Set only when absent.
     */
    static Map<String, String> configureDjl() {
        Map<String, String> used = new HashMap<>();
        defaultProperty("ai.djl.offline", "DJL_OFFLINE", "true", used);
        defaultProperty("OPT_OUT_TRACKING", "OPT_OUT_TRACKING", "true", used);
        defaultProperty("DJL_CACHE_DIR", "DJL_CACHE_DIR", Path.of("target", "djl-cache").toAbsolutePath().toString(), used);
        return used;
    }

    private static void defaultProperty(String property, String env, String value, Map<String, String> used) {
        String current = System.getenv(env) != null ? System.getenv(env) : System.getProperty(property);
        if (current == null) {
            System.setProperty(property, value);
            current = value;
        }
        used.put(property, current);
    }

    private static String format(Map<String, String> values) {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return sb.toString();
    }

    /** Polls, processes and commits batch after batch until {@link #stop()}. */
    void run() {
        long startNs = System.nanoTime();
        try {
            consumer.subscribe(List.of(settings.inputTopic()));
            while (running) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(500));
                } catch (WakeupException e) {
                    break;
                }
                if (!records.isEmpty()) {
                    processBatch(records);
                }
            }
        } finally {
            close();
            LOG.info("event=peer_stopped results={} errors={} uptime_s={}", results.get(), errors.get(),
                    (System.nanoTime() - startNs) / 1_000_000_000);
            stopped.countDown();
        }
    }

    /** Every record's result sent and acknowledged, then the batch's offsets committed. */
    private void processBatch(ConsumerRecords<byte[], byte[]> records) {
        long polledNs = System.nanoTime();
        List<Future<Future<RecordMetadata>>> sends = new ArrayList<>(records.count());
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            sends.add(pool.submit(() -> {
                InferenceResult result = handler.handle(record, polledNs);
                if (result.status() != InferenceResult.Status.OK) {
                    errors.incrementAndGet();
                }
                return producer.send(new ProducerRecord<>(settings.resultsTopic(), record.key(), codec.encode(result)));
            }));
            offsets.merge(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        for (Future<Future<RecordMetadata>> send : sends) {
            await(await(send));  // the result is acknowledged by the broker
            results.incrementAndGet();
        }
        try {
            consumer.commitSync(offsets);
        } catch (WakeupException e) {
            consumer.commitSync(offsets);  // stop() woke the consumer mid-batch: the batch is done, commit it
        }
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a result could not be produced or sent: " + e.getCause(), e.getCause());
        }
    }

    /** Asks the poll loop to finish its batch, commit and close (any thread). */
    void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        pool.shutdown();
        try {
            pool.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        consumer.close(Duration.ofSeconds(5));
        producer.close(Duration.ofSeconds(5));
        handler.close();
        model.close();
    }
}
