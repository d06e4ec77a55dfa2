package io.inferencefleet.benchmarks.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.InferenceResult.Status;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.testing.KafkaBroker;
import io.inferencefleet.testing.SharedImages;
import io.inferencefleet.worker.preprocess.ImagePreprocessor;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.preprocess.PreprocessStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DJL peer as it is benchmarked: its own JVM (the build's JVM flags, the OpenBLAS/glog
 * environment) on a real broker, answering the shared photos, a truncated JPEG, a missing file, a
 * forbidden URI and a record that is not a request; then SIGTERM. Its top-1 classes are compared
 * with our own predictor on our own (OpenCV) pre-processing of the same photos.
 */
@Tag("slow")
class DjlWorkerTest {
    private static final MessageCodec CODEC = new MessageCodec();
    private static KafkaBroker broker;

    @TempDir
    static Path temp;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new KafkaBroker();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void answersEveryRequestOnceAndAgreesWithOurPredictorOnTopOne() throws Exception {
        broker.createTopic("peer-in", 2);
        broker.createTopic("peer-out", 1);
        Path model = Files.createDirectories(temp.resolve("resnet50"));
        BuiltinModels.generate("resnet50", model, 42);
        Path images = SharedImages.dir();
        List<Path> photos;
        try (Stream<Path> files = Files.list(images)) {
            photos = files.filter(p -> !p.getFileName().toString().equals("truncated.jpg")).sorted().toList();
        }
        assertTrue(photos.size() >= 10, "shared photos in " + images);

        Map<String, String> expectedError = new LinkedHashMap<>();
        expectedError.put("bad-truncated", RequestHandler.DECODE_FAILED);
        expectedError.put("bad-missing", RequestHandler.NOT_FOUND);
        expectedError.put("bad-http", RequestHandler.FORBIDDEN_URI);
        expectedError.put("bad-outside-root", RequestHandler.FORBIDDEN_URI);
        Map<String, String> sentKeys = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (Path photo : photos) {
                send(producer, sentKeys, InferenceRequest.of("photo-" + photo.getFileName(), photo.toUri().toString()));
            }
            send(producer, sentKeys, InferenceRequest.of("bad-truncated", images.resolve("truncated.jpg").toUri().toString()));
            send(producer, sentKeys, InferenceRequest.of("bad-missing", images.resolve("no-such-photo.jpg").toUri().toString()));
            send(producer, sentKeys, InferenceRequest.of("bad-http", "http://example.com/cat.jpg"));
            send(producer, sentKeys, InferenceRequest.of("bad-outside-root", model.resolve("inference.yml").toUri().toString()));
            producer.send(new ProducerRecord<>("peer-in", "garbage".getBytes(StandardCharsets.UTF_8),
                    "not json".getBytes(StandardCharsets.UTF_8))).get();
        }
        int requests = sentKeys.size() + 1;

        Path log = temp.resolve("peer.log");
        long started = System.nanoTime();
        Process peer = startPeer(model, images, log);
        List<ConsumerRecord<byte[], byte[]>> records;
        try {
            records = broker.readAll("peer-out", requests, Duration.ofMinutes(4));
            System.out.printf("peer: %d results in %.1f s after launch (JVM start, model load, backlog)%n", records.size(),
                    (System.nanoTime() - started) / 1e9);
        } finally {
            peer.destroy();  // SIGTERM: finish the batch, commit, close
            if (!peer.waitFor(60, TimeUnit.SECONDS)) {
                peer.destroyForcibly();
            }
        }
        String output = Files.readString(log);
        System.out.println("---- peer output ----\n" + output + "---------------------");
        // 143 = 128 + SIGTERM: the JVM's status after its shutdown hook (finish, commit, close) ran.
        assertEquals(143, peer.exitValue(), "exit after SIGTERM:\n" + output);
        assertTrue(output.contains("event=peer_started"), output);
        assertTrue(output.contains("event=peer_stopped"), output);

        Map<String, InferenceResult> byId = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            InferenceResult result = CODEC.decodeResult(record.value());
            assertEquals(null, byId.put(result.id(), result), "one result per request: " + result.id());
            String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
            if (sentKeys.containsKey(result.id())) {
                assertEquals(sentKeys.get(result.id()), key, "result key = request key");
            }
            assertEquals("djl-peer", result.workerId());
            assertEquals("peer-in", result.source().topic());
        }
        assertEquals(requests, byId.size(), "results for " + byId.keySet());
        broker.committedVsEnd("djl-peer-test", "peer-in").forEach((tp, offsets) ->
                assertEquals(offsets[1], offsets[0], "committed offset of " + tp + " is its end"));

        expectedError.forEach((id, code) -> {
            InferenceResult result = byId.get(id);
            assertNotNull(result, id);
            assertEquals(Status.ERROR, result.status(), result.toString());
            assertEquals(code, result.error().code(), result.toString());
        });
        InferenceResult garbage = byId.values().stream().filter(r -> r.id().startsWith("unknown@")).findFirst().orElseThrow();
        assertEquals(ErrorCode.BAD_REQUEST.code(), garbage.error().code());

        Map<String, int[]> ours = ourTopFive(model, photos);
        int agree = 0;
        int sharedTopFive = 0;
        List<Double> inferenceMs = new ArrayList<>();
        // With synthetic weights nearly every photo's top-1 is one of two classes, so top-1 agreement is a
        // weak check; the overlap of the top-5 sets says more about how close the two pre-processings are.
        System.out.printf("%-26s %8s %8s %8s %6s  %s%n", "photo", "djl", "ours", "djl p1", "top5",
                "djl timings ms (fetch/pre/infer/total)");
        for (Path photo : photos) {
            InferenceResult result = byId.get("photo-" + photo.getFileName());
            assertNotNull(result, photo.toString());
            assertEquals(Status.OK, result.status(), result.toString());
            assertEquals(5, result.predictions().size(), result.toString());
            for (int i = 1; i < 5; i++) {
                assertTrue(result.predictions().get(i).score() <= result.predictions().get(i - 1).score(), "best first");
            }
            int djl = result.predictions().get(0).classId();
            int[] our = ours.get(photo.getFileName().toString());
            agree += our != null && our[0] == djl ? 1 : 0;
            int overlap = 0;
            for (InferenceResult.Prediction p : result.predictions()) {
                overlap += our != null && Arrays.stream(our).anyMatch(c -> c == p.classId()) ? 1 : 0;
            }
            sharedTopFive += overlap;
            InferenceResult.Timings t = result.timingsMs();
            inferenceMs.add(t.inference());
            System.out.printf("%-26s %8d %8s %8.4f %6d  %.1f/%.1f/%.1f/%.1f%n", photo.getFileName(), djl,
                    our == null ? "-" : Integer.toString(our[0]), result.predictions().get(0).score(), overlap, t.fetch(),
                    t.preprocess(), t.inference(), t.total());
        }
        System.out.printf("top-1 agreement %d/%d; mean top-5 overlap %.2f of 5; median DJL inference %.1f ms%n", agree,
                photos.size(), (double) sharedTopFive / photos.size(),
                inferenceMs.stream().sorted().toList().get(inferenceMs.size() / 2));
        assertTrue(agree >= 0.8 * photos.size(), "top-1 agrees on " + agree + " of " + photos.size());
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, Map<String, String> keys, InferenceRequest request)
            throws Exception {
        String key = "key-" + request.id();
        keys.put(request.id(), key);
        producer.send(new ProducerRecord<>("peer-in", key.getBytes(StandardCharsets.UTF_8), CODEC.encode(request))).get();
    }

    private static Process startPeer(Path model, Path images, Path log) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(DjlWorker.class.getName());
        command.add("--bootstrap.servers=" + broker.bootstrapServers());
        command.add("--input.topic=peer-in");
        command.add("--results.topic=peer-out");
        command.add("--group.id=djl-peer-test");
        command.add("--model.dir=" + model);
        command.add("--file.root=" + images);
        command.add("--threads=2");
        command.add("--math.threads=1");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OPENBLAS_CORETYPE", "Haswell");
        builder.environment().put("OPENBLAS_NUM_THREADS", "1");
        builder.environment().put("GLOG_minloglevel", "2");
        return builder.start();
    }

    /** Top-5 classes (best first) of each photo through our OpenCV pre-processing and our Paddle binding. */
    private static Map<String, int[]> ourTopFive(Path model, List<Path> photos) throws Exception {
        Map<String, int[]> top = new HashMap<>();
        PreprocessConfig config = PreprocessConfig.imageNet();
        ByteBuffer tensor = ByteBuffer.allocateDirect(config.tensorBytes()).order(ByteOrder.nativeOrder());
        float[] scores = new float[1000];
        try (Predictor predictor = Predictor.create(PredictorConfig.builder(model.resolve("inference.pdmodel"),
                     model.resolve("inference.pdiparams")).mathThreads(1).build());
             ImagePreprocessor preprocessor = new ImagePreprocessor(config)) {
            for (Path photo : photos) {
                if (preprocessor.preprocess(Files.readAllBytes(photo), tensor.clear()) != PreprocessStatus.OK) {
                    continue;
                }
                predictor.setInput(0, tensor.asFloatBuffer(), 1, 3, config.cropSize(), config.cropSize());
                predictor.run();
                predictor.copyOutput(0, scores);
                top.put(photo.getFileName().toString(), IntStream.range(0, scores.length).boxed()
                        .sorted((a, b) -> Float.compare(scores[b], scores[a])).limit(5).mapToInt(Integer::intValue).toArray());
            }
        }
        return top;
    }
}
