package io.inferencefleet.ops.cli;

import io.inferencefleet.kafka.local.SingleNodeKafka;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.worker.Worker;
import io.inferencefleet.worker.config.WorkerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Scalar;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code fleet demo}: the whole system on this machine with nothing installed. Starts a real local
 * KRaft broker, generates {@code resnet50} if missing, starts a worker, submits every image of a
 * directory, prints one line per result as it arrives, stops everything. Only its own lines are
 * printed: log lines go to {@value #LOG_FILE_NAME} unless {@code --verbose} ({@link LogDestination}).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the whole pipeline locally: embedded Kafka broker, generated ResNet-50, one worker,",
            "every image of IMAGES (default: ../shared/images beside the repository, else a few drawn ones)."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "IMAGES", description = "Directory of images.")
    Path imagesDir;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model directory (default: models/resnet50, generated with synthetic weights if missing).")
    Path modelDir;

    @Option(names = "--predictors", defaultValue = "2", description = "Predictor threads (default: ${DEFAULT-VALUE}).")
    int predictors;

    /** Where the broker's, worker's and libraries' log lines go unless {@code --verbose}. */
    static final String LOG_FILE_NAME = ".fleet/demo.log";
    static final Path LOG_FILE = Path.of(LOG_FILE_NAME);

    @Option(names = "--verbose", description = "Also print the log lines of Kafka, the worker and the libraries (default:"
            + " they go to " + LOG_FILE_NAME + ", and only the demo's own lines are printed).")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        long start = System.nanoTime();
        Path model = modelDir != null ? modelDir : DefaultModel.ensure(out);
        out.println("model    " + model.toAbsolutePath());
        if (!verbose) {
            out.println("log      " + LOG_FILE.toAbsolutePath() + " (Kafka, worker; --verbose prints it here)");
        }
        Path images = (imagesDir != null ? imagesDir : defaultImages(out)).toRealPath();
        List<Path> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(images)) {
            list.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        MessageCodec codec = new MessageCodec();
        Map<String, Long> sentNs = new LinkedHashMap<>();
        int answered = 0;
        int ok = 0;
        try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral()) {
            out.printf("broker   embedded KRaft Kafka at %s%n", kafka.bootstrapServers());
            kafka.createTopic("images", 2);
            kafka.createTopic("predictions", 1);
            Map<String, String> flags = new HashMap<>();
            flags.put("bootstrap.servers", kafka.bootstrapServers());
            flags.put("model.dir", model.toString());
            flags.put("fetch.file.roots", images.toString());
            flags.put("predictor.threads", Integer.toString(predictors));
            flags.put("metrics.port", "0");
            flags.put("worker.id", "demo-" + ProcessHandle.current().pid());  // shm under /dev/shm/inference-fleet/
            try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags));
                 KafkaConsumer<byte[], byte[]> results = resultsConsumer(kafka.bootstrapServers());
                 KafkaProducer<byte[], byte[]> producer = producer(kafka.bootstrapServers())) {
                out.printf("worker   %d predictor threads, metrics at http://127.0.0.1:%d/metrics%n", predictors,
                        worker.metricsPort());
                out.printf("submit   %d images from %s%n%n", files.size(), images);
                for (Path file : files) {
                    String id = file.getFileName().toString();
                    sentNs.put(id, System.nanoTime());
                    producer.send(new ProducerRecord<>("images", id.getBytes(StandardCharsets.UTF_8),
                            codec.encode(InferenceRequest.of(id, file.toUri().toString()))));
                }
                producer.flush();
                long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
                while (answered < files.size() && System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> record : results.poll(Duration.ofMillis(100))) {
                        InferenceResult result = codec.decodeResult(record.value());
                        Long sent = sentNs.get(result.id());
                        double latencyMs = sent == null ? Double.NaN : (System.nanoTime() - sent) / 1e6;
                        out.println(line(result, latencyMs));
                        out.flush();
                        answered++;
                        ok += result.status() == InferenceResult.Status.OK ? 1 : 0;
                    }
                }
            }
        }
        out.printf("%n%d images, %d results (%d OK, %d ERROR/EXPIRED) in %.1f s%n", files.size(), answered, ok,
                answered - ok, (System.nanoTime() - start) / 1e9);
        if (modelDir == null) {
            out.println("note: the demo model's weights are synthetic, so classes and scores are meaningless."
                    + " For real predictions: ./fleet demo --model <PaddleClas export dir> (inference.pdmodel,"
                    + " inference.pdiparams, inference.yml).");
        }
        return answered == files.size() ? 0 : 1;
    }

    private static String line(InferenceResult r, double latencyMs) {
        String outcome;
        if (r.status() == InferenceResult.Status.OK && !r.predictions().isEmpty()) {
            InferenceResult.Prediction top = r.predictions().get(0);
            outcome = String.format("class=%-4d score=%.4f%s", top.classId(), top.score(),
                    top.label() == null ? "" : " " + top.label());
        } else {
            outcome = r.error() == null ? "" : r.error().code() + ": " + r.error().message();
        }
        return String.format("%-26s %-7s %-40s %7.0f ms", r.id(), r.status(), outcome, latencyMs);
    }

    /** ../shared/images beside the repository if it exists, else a few images drawn here. */
    private static Path defaultImages(PrintWriter out) throws IOException {
        String root = System.getProperty("fleet.home");
        for (Path candidate : new Path[] {root == null ? null : Path.of(root, "..", "shared", "images"),
                Path.of("..", "shared", "images")}) {
            if (candidate != null && Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        Path dir = Files.createTempDirectory("fleet-demo-images");
        nu.pattern.OpenCV.loadLocally();
        for (int i = 0; i < 4; i++) {
            Mat image = new Mat(240 + 40 * i, 320, CvType.CV_8UC3, new Scalar(40 * i, 120, 200 - 40 * i));
            Imgproc.circle(image, new Point(160, 120), 40 + 10 * i, new Scalar(255, 255 - 60 * i, 0), -1);
            Imgproc.putText(image, "fleet " + i, new Point(20, 40), Imgproc.FONT_HERSHEY_SIMPLEX, 1.0,
                    new Scalar(255, 255, 255), 2);
            Core.flip(image, image, i % 2);
            Imgcodecs.imwrite(dir.resolve("drawn-" + i + (i % 2 == 0 ? ".jpg" : ".png")).toString(), image);
        }
        out.println("images   no ../shared/images here: drew 4 images into " + dir);
        return dir;
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    private static KafkaConsumer<byte[], byte[]> resultsConsumer(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
        TopicPartition tp = new TopicPartition("predictions", 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        return consumer;
    }
}
