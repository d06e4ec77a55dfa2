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
import io.inferencefleet.benchmarks.report.Machine;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
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
 * Rounds alternate ceiling and worker (A B A B ...) because these VMs are noisy; an uncounted warm-up
 * worker round comes first. Each measured window also accounts the CPU of every thread by role
 * ({@link ThreadCpu}): CPU per image is what to compare when the machine is shared, and it bounds the
 * efficiency on the same cores (inference CPU/img ÷ total CPU/img). Usage from the repository root:
 * {@code benchmarks/run-worker-benchmark.sh [rounds] [requests]}; {@code -Dbench.broker=process} runs the
 * broker in a JVM of its own (its CPU and its JIT counted apart), {@code -Dbench.threads=true} prints every
 * thread's CPU, {@code -Dbench.warmup.requests=N} sizes the warm-up (default requests / 2).
 */
public final class WorkerThroughputSuite {
    private static final int PREDICTORS = 2;
    private static final int MATH_THREADS = 1;

    /** The broker's process when it runs in its own (-Dbench.broker=process), else -1. */
    private static long brokerPid = -1;

    private WorkerThroughputSuite() {}

    public static void main(String[] args) throws Exception {
        String report;
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 240;
        int warmUp = Integer.getInteger("bench.warmup.requests", requests / 2);
        Path images = sharedImagesDir();
        Path modelDir = BenchModels.ensure("resnet50").modelFile().getParent();
        List<Path> photos = sharedPhotos(images);
        Map<String, String> machine = Machine.describe("WorkerThroughputSuite " + rounds + " " + requests);
        List<Double> ceiling = new ArrayList<>();
        List<Double> worker = new ArrayList<>();
        List<CpuWindow> ceilingCpu = new ArrayList<>();
        List<CpuWindow> workerCpu = new ArrayList<>();
        List<InferenceResult> lastResults = List.of();
        Set<Integer> beforeBroker = ThreadCpu.liveTids();
        boolean separate = "process".equals(System.getProperty("bench.broker", "in-process"));
        try (Broker kafka = separate ? ChildBroker.start() : new InProcessBroker(SingleNodeKafka.startEphemeral())) {
            // The broker's threads are the ones its start created: their names do not say "broker".
            Set<Integer> brokerTids = new HashSet<>(ThreadCpu.liveTids());
            brokerTids.removeAll(beforeBroker);
            Roles roles = new Roles(separate ? Set.of() : brokerTids);
            brokerPid = kafka.pid();
            if (warmUp > 0) {
                // A first worker in a fresh JVM spends ~7 ms/img of CPU in the JIT compilers (measured: C1 + C2
                // 1.5 s in a 9 s window) compiling Kafka's, the broker's and our code: a cost of a young
                // process, not of the steady state a long-running worker serves in. Unmeasured.
                RunResult warm = endToEnd(kafka, modelDir, images, photos, warmUp, 0);
                System.out.printf("warm-up worker round (not counted): %.2f img/s%n", warm.imagesPerSecond);
                printThreads(warm.cpu, roles);
            }
            for (int round = 1; round <= rounds; round++) {
                Ceiling raw = measureCeiling(modelDir, photos, Duration.ofSeconds(15), PREDICTORS, MATH_THREADS, false,
                        WorkerConfig.ENGINE_AUTO);
                ceiling.add(raw.imagesPerSecond);
                ceilingCpu.add(raw.cpu);
                System.out.printf("round %d ceiling: %.2f img/s%n", round, raw.imagesPerSecond);
                printThreads(raw.cpu, roles);
                RunResult run = endToEnd(kafka, modelDir, images, photos, requests, round);
                worker.add(run.imagesPerSecond);
                workerCpu.add(run.cpu);
                lastResults = run.results;
                System.out.printf("round %d worker:  %.2f img/s (%d results)%n", round, run.imagesPerSecond, run.results.size());
                printThreads(run.cpu, roles);
            }
            report = report(machine, rounds, requests, warmUp, ceiling, worker, lastResults,
                    cpuTable(ceilingCpu, workerCpu, roles));
        }
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
        return measureCeiling(modelDir, photos, duration, predictors, mathThreads, pinPerCpu, engine).imagesPerSecond;
    }

    /** A ceiling phase: its rate and the CPU of every thread over its measured window. */
    record Ceiling(double imagesPerSecond, CpuWindow cpu) {}

    static Ceiling measureCeiling(Path modelDir, List<Path> photos, Duration duration, int predictors, int mathThreads,
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
        AtomicLong ran = new AtomicLong();  // done plus the runs that ended after the window: what the CPU paid for
        PredictorLoader.Loaded loaded = PredictorLoader.load(engine, PredictorConfig.builder(files.modelFile(),
                files.paramsFile()).mathThreads(mathThreads), new int[] {1, 3, 224, 224});
        System.out.println("ceiling engine: " + loaded.engine().key() + " (" + loaded.reason() + ")");
        try (Predictor original = loaded.predictor()) {
            CountDownLatch ready = new CountDownLatch(predictors);
            CountDownLatch go = new CountDownLatch(1);
            // The threads wait after their window until the CPU snapshot is taken: an exited thread's
            // time is no longer in /proc/self/task, only in the process's total.
            CountDownLatch finished = new CountDownLatch(predictors);
            CountDownLatch release = new CountDownLatch(1);
            long[] window = new long[2];
            List<Thread> threads = new ArrayList<>();
            int cpus = Runtime.getRuntime().availableProcessors();
            for (int t = 0; t < predictors; t++) {
                int cpu = t % cpus;
                Thread thread = new Thread(() -> {
                    boolean counted = false;
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
                            ran.incrementAndGet();
                        }
                        counted = true;
                        finished.countDown();
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        if (!counted) {
                            finished.countDown();  // a thread that failed must not leave the snapshot waiting
                        }
                    }
                }, "ceiling-" + t);
                threads.add(thread);
                thread.start();
            }
            ready.await();
            ThreadCpu.Snapshot start = ThreadCpu.snapshot(brokerPid);
            window[0] = System.nanoTime();
            window[1] = window[0] + duration.toNanos();
            go.countDown();
            finished.await();
            ThreadCpu.Snapshot end = ThreadCpu.snapshot(brokerPid);
            release.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            return new Ceiling(done.get() / ((window[1] - window[0]) / 1e9), new CpuWindow(start, end, ran.get()));
        }
    }

    /**
     * A worker round: its rate, its results, and the CPU of every thread while the results from the 5th
     * to the 95th percentile arrived (the steady state the rate is measured over).
     */
    record RunResult(double imagesPerSecond, List<InferenceResult> results, CpuWindow cpu) {}

    static RunResult endToEnd(SingleNodeKafka kafka, Path modelDir, Path images, List<Path> photos, int requests, int round)
            throws Exception {
        return endToEnd(new InProcessBroker(kafka), modelDir, images, photos, requests, round, Map.of());
    }

    /** As above, with more worker settings ({@code extra}, e.g. {@code delivery.guarantee}) applied last. */
    static RunResult endToEnd(SingleNodeKafka kafka, Path modelDir, Path images, List<Path> photos, int requests, int round,
                              Map<String, String> extra) throws Exception {
        return endToEnd(new InProcessBroker(kafka), modelDir, images, photos, requests, round, extra);
    }

    private static RunResult endToEnd(Broker kafka, Path modelDir, Path images, List<Path> photos, int requests, int round)
            throws Exception {
        return endToEnd(kafka, modelDir, images, photos, requests, round, Map.of());
    }

    private static RunResult endToEnd(Broker kafka, Path modelDir, Path images, List<Path> photos, int requests, int round,
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
        CpuWindow cpu = null;
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags));
             KafkaConsumer<byte[], byte[]> consumer = resultsConsumer(kafka)) {
            TopicPartition tp = new TopicPartition(out, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            int first = requests / 20;
            int last = requests - requests / 20;
            ThreadCpu.Snapshot start = null;
            int startCount = 0;
            while (records.size() < requests && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                if (start == null && records.size() >= first) {
                    start = ThreadCpu.snapshot(brokerPid);
                    startCount = records.size();
                } else if (start != null && cpu == null && records.size() >= last) {
                    cpu = new CpuWindow(start, ThreadCpu.snapshot(brokerPid), records.size() - startCount);
                }
            }
        }
        long[] times = records.stream().mapToLong(ConsumerRecord::timestamp).sorted().toArray();
        int from = times.length / 20;
        int to = times.length - 1 - times.length / 20;
        double seconds = (times[to] - times[from]) / 1000.0;
        List<InferenceResult> results = records.stream().map(r -> codec.decodeResult(r.value())).toList();
        return new RunResult((to - from) / seconds, results, cpu);
    }

    /** The broker a run talks to: in this process (the default) or in a child JVM of its own. */
    interface Broker extends AutoCloseable {
        String bootstrapServers();

        void createTopic(String name, int partitions) throws Exception;

        /** Its process id when it is not this process, else -1. */
        long pid();

        @Override
        void close() throws Exception;
    }

    /** The suite's own broker, in this process. */
    record InProcessBroker(SingleNodeKafka kafka) implements Broker {
        public String bootstrapServers() {
            return kafka.bootstrapServers();
        }

        public void createTopic(String name, int partitions) throws Exception {
            kafka.createTopic(name, partitions);
        }

        public long pid() {
            return -1;
        }

        public void close() {
            kafka.close();
        }
    }

    /**
     * -Dbench.broker=process: the same broker in a JVM of its own ({@link ChildBroker#main}), so that its
     * CPU (a benchmark artefact: production brokers run elsewhere) and the JIT work its code causes are
     * counted apart from the worker's, from {@code /proc/<pid>/stat}. It still runs on the same CPUs.
     */
    static final class ChildBroker implements Broker {
        private final Process process;
        private final String bootstrap;

        private ChildBroker(Process process, String bootstrap) {
            this.process = process;
            this.bootstrap = bootstrap;
        }

        static ChildBroker start() throws java.io.IOException {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), ChildBroker.class.getName()));
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("bootstrap ")) {
                    System.out.println("broker in its own process, pid " + process.pid());
                    return new ChildBroker(process, line.substring("bootstrap ".length()).trim());
                }
            }
            process.destroyForcibly();
            throw new IllegalStateException("the broker process ended before it printed its address");
        }

        /** The child: starts the broker, prints its address, runs until its stdin closes. */
        public static void main(String[] args) throws Exception {
            try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {
                System.out.println("bootstrap " + kafka.bootstrapServers());
                System.out.flush();
                while (System.in.read() >= 0) {
                    // until the parent closes our stdin (or dies)
                }
            }
        }

        public String bootstrapServers() {
            return bootstrap;
        }

        public void createTopic(String name, int partitions) throws Exception {
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                    Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(name, partitions, (short) 1))).all().get();
            }
        }

        public long pid() {
            return process.pid();
        }

        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** The CPU of every thread between two snapshots, over which {@code images} results were produced. */
    record CpuWindow(ThreadCpu.Snapshot start, ThreadCpu.Snapshot end, long images) {
        double wallMs() {
            return (end.wallNs() - start.wallNs()) / 1e6;
        }
    }

    /**
     * Gives each thread a role by its name (the JVM's for Java threads; a native thread is named after
     * the Java thread that created it). The in-process broker's threads are known by id instead: those
     * its start created (their names, e.g. {@code data-plane-kafka-request-handler-0}, are Kafka's).
     */
    static final class Roles implements Function<ThreadCpu.Task, String> {
        static final String PREDICTOR = "predictor threads (inference)";
        static final String INFERENCE_POOL = "inference pools (ORT/Paddle/OpenBLAS, native)";
        static final String DECODER = "decoders (decode, resize, normalize into shm)";
        static final String DECODE_POOL = "decoders' native pools (OpenCV)";
        static final String FETCH = "fetch (file readers)";
        static final String INTAKE = "intake (Kafka consumer)";
        static final String PRODUCER = "result producer I/O thread";
        static final String GC = "GC";
        static final String JIT = "JIT compilers";
        static final String JVM = "JVM other (VM Thread, periodic tasks)";
        static final String BROKER = "in-process broker (benchmark artefact)";
        static final String SUITE = "suite's results consumer (benchmark artefact)";
        static final String OTHER = "other";
        static final List<String> ORDER = List.of(PREDICTOR, INFERENCE_POOL, DECODER, DECODE_POOL, FETCH, INTAKE, PRODUCER,
                GC, JIT, JVM, OTHER, ThreadCpu.EXITED, BROKER, SUITE);
        /** Roles the product would not pay for in production: the broker runs elsewhere, nobody reads results here. */
        static final Set<String> ARTEFACTS = Set.of(BROKER, SUITE);
        static final Set<String> INFERENCE = Set.of(PREDICTOR, INFERENCE_POOL);

        private final Set<Integer> brokerTids;

        Roles(Set<Integer> brokerTids) {
            this.brokerTids = Set.copyOf(brokerTids);
        }

        @Override
        public String apply(ThreadCpu.Task t) {
            if (brokerTids.contains(t.tid())) {
                return BROKER;
            }
            String name = t.javaName();
            if (name == null) {
                String creator = t.comm();
                if (creator.startsWith("predictor-") || creator.startsWith("ceiling-")) {
                    return INFERENCE_POOL;
                }
                return creator.startsWith("decoder-") ? DECODE_POOL : OTHER;
            }
            if (name.startsWith("predictor-") || name.startsWith("ceiling-")) {
                return PREDICTOR;
            }
            if (name.startsWith("decoder-")) {
                return DECODER;
            }
            if (name.startsWith("fetch-file-")) {
                return FETCH;
            }
            if (name.equals("intake") || name.startsWith("kafka-coordinator-heartbeat-thread")) {
                return INTAKE;
            }
            if (name.startsWith("kafka-producer-network-thread")) {
                return PRODUCER;
            }
            if (name.equals("main")) {
                return SUITE;
            }
            if (name.startsWith("GC Thread") || name.startsWith("G1 ")) {
                return GC;
            }
            if (name.contains("CompilerThread") || name.equals("Sweeper thread")) {
                return JIT;
            }
            if (name.startsWith("VM ") || name.equals("Service Thread") || name.equals("Monitor Deflation Thread")
                    || name.equals("Signal Dispatcher") || name.equals("Finalizer") || name.equals("Reference Handler")
                    || name.equals("Common-Cleaner")) {
                return JVM;
            }
            return OTHER;
        }
    }

    /** One kind of phase (ceiling or worker) summed over its rounds' windows. */
    private record PhaseCpu(long images, double wallMs, double processMs, double othersMs, double childMs, double childJitMs,
                            Map<String, ThreadCpu.RoleCpu> roles) {
        static PhaseCpu of(List<CpuWindow> windows, Roles classify) {
            long images = 0;
            double wall = 0;
            double process = 0;
            double others = 0;
            double child = 0;
            double childJit = 0;
            Map<String, ThreadCpu.RoleCpu> roles = new HashMap<>();
            for (CpuWindow w : windows) {
                if (w == null) {
                    continue;
                }
                images += w.images;
                wall += w.wallMs();
                process += w.end.processMsSince(w.start);
                others += w.end.othersMsSince(w.start);
                child += w.end.childMsSince(w.start);
                childJit += w.end.childJitMsSince(w.start);
                ThreadCpu.byRole(w.start, w.end, classify).forEach((k, v) -> roles.merge(k, v, ThreadCpu.RoleCpu::plus));
            }
            return new PhaseCpu(images, wall, process, others, child, childJit, roles);
        }

        double perImage(String role) {
            ThreadCpu.RoleCpu c = roles.get(role);
            return c == null ? 0 : c.cpuMs() / images;
        }

        double perImage(Set<String> of) {
            return of.stream().mapToDouble(this::perImage).sum();
        }

        double threadsPerRound(String role, int rounds) {
            ThreadCpu.RoleCpu c = roles.get(role);
            return c == null ? 0 : (double) c.threads() / rounds;
        }
    }

    /** The per-role CPU table of the report and the bound on efficiency it implies. */
    static String cpuTable(List<CpuWindow> ceilingWindows, List<CpuWindow> workerWindows, Roles roles) {
        PhaseCpu c = PhaseCpu.of(ceilingWindows, roles);
        PhaseCpu w = PhaseCpu.of(workerWindows, roles);
        if (c.images == 0 || w.images == 0) {
            return "CPU accounting: no complete window.\n";
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        int rounds = workerWindows.size();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("CPU per image by thread role: utime + stime of every thread of this process "
                + "(/proc/self/task/*/stat, %d Hz ticks), named from the JVM's thread dump; over the ceiling's measured "
                + "windows (%d images, %.1f s) and the worker's steady state, results 5 %%–95 %% (%d images, %.1f s). "
                + "Native threads count under the role of the Java thread that created them.%n%n",
                ThreadCpu.TICKS_PER_SECOND, c.images, c.wallMs / 1000, w.images, w.wallMs / 1000));
        sb.append("| role | ceiling CPU ms/img | worker CPU ms/img | worker threads | worker context switches/img (voluntary / involuntary) |\n");
        sb.append("|---|---:|---:|---:|---:|\n");
        for (String role : Roles.ORDER) {
            ThreadCpu.RoleCpu wr = w.roles.get(role);
            if (wr == null && c.roles.get(role) == null) {
                continue;
            }
            sb.append(String.format("| %s | %.2f | %.2f | %.0f | %s |%n", role, c.perImage(role), w.perImage(role),
                    w.threadsPerRound(role, rounds),
                    wr == null ? "" : String.format("%.1f / %.1f", (double) wr.voluntarySwitches() / w.images,
                            (double) wr.involuntarySwitches() / w.images)));
        }
        if (brokerPid >= 0) {
            sb.append(String.format("| broker in its own process (benchmark artefact; of which its JIT compilers: %.2f / %.2f) "
                            + "| %.2f | %.2f | | |%n", c.childJitMs / c.images, w.childJitMs / w.images,
                    c.childMs / c.images, w.childMs / w.images));
        }
        double cTotal = (c.processMs + c.childMs) / c.images;
        double wTotal = (w.processMs + w.childMs) / w.images;
        double cProduct = cTotal - c.perImage(Roles.ARTEFACTS) - c.childMs / c.images;
        double wProduct = wTotal - w.perImage(Roles.ARTEFACTS) - w.childMs / w.images;
        sb.append(String.format("| **total%s** | **%.2f** | **%.2f** | | |%n", brokerPid >= 0 ? ", both processes" : ", this process",
                cTotal, wTotal));
        sb.append(String.format("| total without the benchmark's artefacts | %.2f | %.2f | | |%n", cProduct, wProduct));
        sb.append(String.format("| (other processes on this machine, not in the totals) | %.2f | %.2f | | |%n",
                c.othersMs / c.images, w.othersMs / w.images));
        sb.append(String.format("| (wall ms/img × %d CPUs: the CPU time there was) | %.2f | %.2f | | |%n%n", cpus,
                cpus * c.wallMs / c.images, cpus * w.wallMs / w.images));
        double cInference = c.perImage(Roles.INFERENCE);
        double wInference = w.perImage(Roles.INFERENCE);
        ThreadCpu.RoleCpu wp = w.roles.get(Roles.PREDICTOR);
        ThreadCpu.RoleCpu cp = c.roles.get(Roles.PREDICTOR);
        sb.append(String.format("Predictor threads on CPU: %.1f %% of their wall time in the worker, %.1f %% in the "
                        + "ceiling (wall − CPU, idle or waiting for a CPU: %.1f %% / %.1f %%).%n%n",
                100 * busy(wp, w, PREDICTORS, rounds), 100 * busy(cp, c, PREDICTORS, rounds),
                100 * (1 - busy(wp, w, PREDICTORS, rounds)), 100 * (1 - busy(cp, c, PREDICTORS, rounds))));
        // Throughput = CPU ms used per second ÷ CPU ms per image. Where both phases keep the same cores busy,
        // efficiency = ceiling CPU/img ÷ worker CPU/img; the ceiling is nearly all inference, hence the bound.
        double cUsed = (c.processMs + c.childMs) / (cpus * c.wallMs);
        double wUsed = (w.processMs + w.childMs) / (cpus * w.wallMs);
        sb.append(String.format("Bound on the same cores: efficiency ≤ inference CPU/img ÷ total CPU/img. The ceiling's "
                        + "inference (%.2f ms/img) over the worker's total (%.2f): **≤ %.3f**; without the benchmark's "
                        + "artefacts (%.2f): ≤ %.3f. Both phases used the CPUs alike (%.1f %% and %.1f %% of the CPU time "
                        + "there was), so the efficiency the accounting predicts is ceiling total ÷ worker total = %.3f. "
                        + "The bound factors into the inference's share of the worker's CPU (%.2f of %.2f = %.3f) times "
                        + "the ceiling's inference cost over the worker's (%.2f / %.2f = %.3f; below 1 when the same "
                        + "inference costs more next to the rest of the pipeline). Efficiency 0.95 needs a worker total ≤ %.2f ms/img: "
                        + "%.2f ms/img for everything but the ceiling's own work.%n",
                cInference, wTotal, cInference / wTotal, wProduct, cInference / wProduct, 100 * cUsed, 100 * wUsed,
                cTotal / wTotal, wInference, wTotal, wInference / wTotal, cInference, wInference, cInference / wInference,
                cTotal / 0.95, cTotal / 0.95 - cTotal));
        return sb.toString();
    }

    /** Share of the predictors' wall time they were on a CPU; the ceiling's threads are all predictors. */
    private static double busy(ThreadCpu.RoleCpu predictors, PhaseCpu phase, int perRound, int rounds) {
        if (predictors == null) {
            return 0;
        }
        return predictors.cpuMs() / (phase.wallMs * perRound);
    }

    /** With -Dbench.threads=true: every thread's CPU over the window, to check the roles. */
    private static void printThreads(CpuWindow w, Roles roles) {
        if (w == null) {
            return;
        }
        if (Boolean.getBoolean("bench.threads")) {
            System.out.println(ThreadCpu.dump(w.start, w.end, roles));
        }
        Map<String, ThreadCpu.RoleCpu> cpu = ThreadCpu.byRole(w.start, w.end, roles);
        StringBuilder sb = new StringBuilder(String.format("  %d images in %.0f ms wall:", w.images, w.wallMs()));
        for (String role : Roles.ORDER) {
            ThreadCpu.RoleCpu c = cpu.get(role);
            if (c != null && c.cpuMs() > 0) {
                sb.append(String.format(" %s %.1f;", role, c.cpuMs() / w.images));
            }
        }
        System.out.println(sb + " (CPU ms/img)");
    }

    private static KafkaConsumer<byte[], byte[]> resultsConsumer(Broker kafka) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    private static String report(Map<String, String> machine, int rounds, int requests, int warmUp, List<Double> ceiling,
                                 List<Double> worker, List<InferenceResult> results, String cpuTable) {
        double c = median(ceiling);
        double w = median(worker);
        StringBuilder sb = new StringBuilder();
        sb.append("# Worker throughput vs. raw predictor, ").append(LocalDate.now()).append("\n\n");
        sb.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, ")
                .append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.version"))
                .append(". Model: generated ResNet-50 (batch 1). ").append(PREDICTORS).append(" predictor threads x ")
                .append(MATH_THREADS).append(" math thread; ").append(rounds).append(" interleaved rounds; ")
                .append(requests).append(" requests per worker round (shared photos, file://), after a warm-up worker round of ")
                .append(warmUp).append(" requests (-Dbench.warmup.requests) that is not counted. Broker: ")
                .append(brokerPid >= 0 ? "a JVM of its own on the same CPUs (-Dbench.broker=process)"
                        : "in this process (-Dbench.broker=in-process, the default)").append(".\n\n");
        sb.append("CPU: ").append(machine.get("CPU")).append(", clock ").append(cpuClock())
                .append(". Load average at start: ").append(machine.get("load average at start"))
                .append(". Revision: ").append(machine.get("git revision")).append(".\n\n");
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
        sb.append('\n').append(cpuTable);
        return sb.toString();
    }

    /** "cpu MHz" of /proc/cpuinfo (min–max over the CPUs: the kernel's current figure, not a rated clock). */
    static String cpuClock() {
        try {
            double[] mhz = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("cpu MHz"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(':') + 1).trim())).sorted().toArray();
            if (mhz.length == 0) {
                return "unknown";
            }
            return mhz[0] == mhz[mhz.length - 1] ? String.format("%.0f MHz", mhz[0])
                    : String.format("%.0f–%.0f MHz", mhz[0], mhz[mhz.length - 1]);
        } catch (java.io.IOException e) {
            return "unknown";
        }
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
