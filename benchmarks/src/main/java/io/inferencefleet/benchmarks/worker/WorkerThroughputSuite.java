package io.inferencefleet.benchmarks.worker;

import io.inferencefleet.kafka.local.SingleNodeKafka;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.worker.PredictorLoader;
import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.benchmarks.paddle.BenchModels;
import io.inferencefleet.worker.Worker;
import io.inferencefleet.worker.config.WorkerConfig;
import io.inferencefleet.worker.preprocess.ImagePreprocessor;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.preprocess.PreprocessStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The worker's end-to-end throughput against the raw predictor's, in one run on one machine:
 * <ul>
 *   <li><b>ceiling</b>: the same number of predictor threads (weight-sharing clones, same math
 *       threads), preprocessed ResNet-50 tensors already in memory, no Kafka, no decoding;
 *   <li><b>worker</b>: a real worker on an in-process KRaft broker, a backlog of requests for the
 *       shared photos, throughput measured over the results' broker timestamps (steady state:
 *       the first and last 5 % are left out).
 * </ul>
 * Rounds alternate ceiling and worker (A B A B ...) because these VMs are noisy. Usage from the
 * repository root: {@code benchmarks/run-worker-benchmark.sh [rounds] [requests]}.
 */
public final class WorkerThroughputSuite {
    private static final int PREDICTORS = 2;
    private static final int MATH_THREADS = 1;

    private WorkerThroughputSuite() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 240;
        Path images = sharedImagesDir();
        Path modelDir = BenchModels.ensure("resnet50").modelFile().getParent();
        List<Path> photos = sharedPhotos(images);
        List<Double> ceiling = new ArrayList<>();
        List<Double> worker = new ArrayList<>();
        List<InferenceResult> lastResults = List.of();
        try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {
            for (int round = 1; round <= rounds; round++) {
                double raw = ceiling(modelDir, photos, Duration.ofSeconds(15));
                ceiling.add(raw);
                System.out.printf("round %d ceiling: %.2f img/s%n", round, raw);
                RunResult run = endToEnd(kafka, modelDir, images, photos, requests, round);
                worker.add(run.imagesPerSecond);
                lastResults = run.results;
                System.out.printf("round %d worker:  %.2f img/s (%d results)%n", round, run.imagesPerSecond, run.results.size());
            }
        }
        String report = report(rounds, requests, ceiling, worker, lastResults);
        System.out.println(report);
        Path out = Path.of("benchmarks/results/worker-throughput-" + LocalDate.now() + ".md");
        if (Files.isDirectory(out.getParent())) {
            Files.writeString(out, report);
            System.out.println("written to " + out);
        }
    }

    /** Images/s of PREDICTORS clones, each on its own thread, running preprocessed photos. */
    static double ceiling(Path modelDir, List<Path> photos, Duration duration) throws Exception {
        return ceiling(modelDir, photos, duration, PREDICTORS, MATH_THREADS, false, WorkerConfig.ENGINE_AUTO);
    }

    /**
     * Images/s of {@code predictors} weight-sharing clones, each on its own thread, running preprocessed
     * photos; with {@code pinPerCpu} clone i's thread is pinned to CPU i (as the worker's
     * {@code predictor.pinning=cpu} does), on {@code engine} chosen as the worker's {@code predictor.engine}
     * chooses it ({@link PredictorLoader}).
     */
    public static double ceiling(Path modelDir, List<Path> photos, Duration duration, int predictors, int mathThreads,
                                 boolean pinPerCpu, String engine) throws Exception {
        ModelFiles files = ModelFiles.inDirectory(modelDir);
        PreprocessConfig pre = PreprocessConfig.imageNet();
        List<ByteBuffer> tensors = new ArrayList<>();
        try (ImagePreprocessor preprocessor = new ImagePreprocessor(pre)) {
            for (Path photo : photos) {
                ByteBuffer tensor = ByteBuffer.allocateDirect(pre.tensorBytes()).order(ByteOrder.nativeOrder());
                if (preprocessor.preprocess(Files.readAllBytes(photo), tensor) == PreprocessStatus.OK) {
                    tensors.add(tensor);
                }
            }
        }
        AtomicLong done = new AtomicLong();
        PredictorLoader.Loaded loaded = PredictorLoader.load(engine, PredictorConfig.builder(files.modelFile(),
                files.paramsFile()).mathThreads(mathThreads), new int[] {1, 3, 224, 224});
        System.out.println("ceiling engine: " + loaded.engine().key() + " (" + loaded.reason() + ")");
        try (Predictor original = loaded.predictor()) {
            CountDownLatch ready = new CountDownLatch(predictors);
            CountDownLatch go = new CountDownLatch(1);
            long[] window = new long[2];
            List<Thread> threads = new ArrayList<>();
            int cpus = Runtime.getRuntime().availableProcessors();
            for (int t = 0; t < predictors; t++) {
                int cpu = t % cpus;
                Thread thread = new Thread(() -> {
                    if (pinPerCpu) {
                        net.openhft.affinity.Affinity.setAffinity(cpu);
                    }
                    try (Predictor clone = original.cloneSharingWeights()) {
                        float[] out = new float[1000];
                        ready.countDown();
                        go.await();
                        int i = 0;
                        while (System.nanoTime() < window[1]) {
                            ByteBuffer tensor = tensors.get(i++ % tensors.size());
                            clone.setInput(0, tensor.asFloatBuffer(), 1, 3, 224, 224);
                            clone.run();
                            clone.copyOutput(0, out);
                            if (System.nanoTime() < window[1]) {
                                done.incrementAndGet();
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "ceiling-" + t);
                threads.add(thread);
                thread.start();
            }
            ready.await();
            window[0] = System.nanoTime();
            window[1] = window[0] + duration.toNanos();
            go.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            return done.get() / ((window[1] - window[0]) / 1e9);
        }
    }

    record RunResult(double imagesPerSecond, List<InferenceResult> results) {}

    static RunResult endToEnd(SingleNodeKafka kafka, Path modelDir, Path images, List<Path> photos, int requests, int round)
            throws Exception {
        return endToEnd(kafka, modelDir, images, photos, requests, round, Map.of());
    }

    /** As above, with more worker settings ({@code extra}, e.g. {@code delivery.guarantee}) applied last. */
    static RunResult endToEnd(SingleNodeKafka kafka, Path modelDir, Path images, List<Path> photos, int requests, int round,
                              Map<String, String> extra) throws Exception {
        String in = "bench-in-" + round;
        String out = "bench-out-" + round;
        kafka.createTopic(in, PREDICTORS);
        kafka.createTopic(out, 1);
        MessageCodec codec = new MessageCodec();
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            for (int i = 0; i < requests; i++) {
                String id = "r" + round + "-" + i;
                producer.send(new ProducerRecord<>(in, id.getBytes(StandardCharsets.UTF_8),
                        codec.encode(InferenceRequest.of(id, photos.get(i % photos.size()).toUri().toString()))));
            }
        }
        Map<String, String> flags = new HashMap<>();
        flags.put("bootstrap.servers", kafka.bootstrapServers());
        flags.put("input.topic", in);
        flags.put("results.topic", out);
        flags.put("group.id", "bench-" + round);
        flags.put("model.dir", modelDir.toString());
        flags.put("fetch.file.roots", images.toString());
        flags.put("predictor.threads", Integer.toString(PREDICTORS));
        flags.put("math.threads", Integer.toString(MATH_THREADS));
        flags.put("metrics.port", "-1");
        flags.put("worker.id", "bench-" + round);
        flags.putAll(extra);
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags));
             KafkaConsumer<byte[], byte[]> consumer = resultsConsumer(kafka)) {
            TopicPartition tp = new TopicPartition(out, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (records.size() < requests && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        long[] times = records.stream().mapToLong(ConsumerRecord::timestamp).sorted().toArray();
        int from = times.length / 20;
        int to = times.length - 1 - times.length / 20;
        double seconds = (times[to] - times[from]) / 1000.0;
        List<InferenceResult> results = records.stream().map(r -> codec.decodeResult(r.value())).toList();
        return new RunResult((to - from) / seconds, results);
    }

    private static KafkaConsumer<byte[], byte[]> resultsConsumer(SingleNodeKafka kafka) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    private static String report(int rounds, int requests, List<Double> ceiling, List<Double> worker,
                                 List<InferenceResult> results) {
        double c = median(ceiling);
        double w = median(worker);
        StringBuilder sb = new StringBuilder();
        sb.append("# Worker throughput vs. raw predictor, ").append(LocalDate.now()).append("\n\n");
        sb.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, ")
                .append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.version"))
                .append(". Model: generated ResNet-50 (batch 1). ").append(PREDICTORS).append(" predictor threads x ")
                .append(MATH_THREADS).append(" math thread; ").append(rounds).append(" interleaved rounds; ")
                .append(requests).append(" requests per worker round (shared photos, file://).\n\n");
        sb.append("| configuration | median img/s | rounds |\n|---|---:|---|\n");
        sb.append(String.format("| ceiling: %d clones on preprocessed tensors | %.2f | %s |%n", PREDICTORS, c, fmt(ceiling)));
        sb.append(String.format("| worker: Kafka → fetch → OpenCV → shm → Paddle → Kafka | %.2f | %s |%n", w, fmt(worker)));
        sb.append(String.format("%nPipeline efficiency (worker / ceiling, medians): **%.3f** (goal ≥ 0.95)%n%n", w / c));
        sb.append("Per-stage timings of the last worker round (ms, from the results):\n\n");
        sb.append("| stage | p50 | p90 | p99 |\n|---|---:|---:|---:|\n");
        List<InferenceResult> ok = results.stream().filter(r -> r.status() == InferenceResult.Status.OK).toList();
        stage(sb, "fetch", ok, r -> r.timingsMs().fetch());
        stage(sb, "preprocess", ok, r -> r.timingsMs().preprocess());
        stage(sb, "queue (shm, waiting for a predictor)", ok, r -> r.timingsMs().queue());
        stage(sb, "inference", ok, r -> r.timingsMs().inference());
        stage(sb, "total (intake to result, backlog included)", ok, r -> r.timingsMs().total());
        return sb.toString();
    }

    private static void stage(StringBuilder sb, String name, List<InferenceResult> results,
                              ToDoubleFunction<InferenceResult> value) {
        double[] v = results.stream().mapToDouble(value).sorted().toArray();
        if (v.length == 0) {
            return;
        }
        sb.append(String.format("| %s | %.1f | %.1f | %.1f |%n", name, v[(int) (v.length * 0.5)],
                v[(int) (v.length * 0.9)], v[Math.min(v.length - 1, (int) (v.length * 0.99))]));
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String fmt(List<Double> values) {
        return String.join(", ", values.stream().map(v -> String.format("%.2f", v)).toList());
    }

    /** The shared photos every request of a benchmark points at: all of them but the truncated JPEG, sorted. */
    public static List<Path> sharedPhotos(Path images) throws java.io.IOException {
        try (var files = Files.list(images)) {
            return files.filter(p -> !p.getFileName().toString().equals("truncated.jpg")).sorted().toList();
        }
    }

    public static Path sharedImagesDir() throws java.io.IOException {
        for (String candidate : Arrays.asList(System.getProperty("fleet.shared.images"), System.getenv("FLEET_SHARED_IMAGES"),
                "../shared/images", "/work/shared/images")) {
            if (candidate != null && Files.isDirectory(Path.of(candidate))) {
                return Path.of(candidate).toRealPath();
            }
        }
        throw new IllegalStateException("shared images not found (fleet.shared.images, FLEET_SHARED_IMAGES, ../shared/images)");
    }
}
