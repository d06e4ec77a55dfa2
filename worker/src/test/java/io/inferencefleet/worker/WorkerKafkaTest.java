package io.inferencefleet.worker;

import io.inferencefleet.testing.SharedImages;
import io.inferencefleet.testing.KafkaBroker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.InferenceResult.Status;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.worker.config.WorkerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker end to end on a real KRaft broker, the real Paddle library (the tiny model), real
 * OpenCV and the shared photos: every request gets exactly one result, bad ones a clear code, and
 * offsets are committed to the end once results are written.
 */
@Tag("slow")
class WorkerKafkaTest {
    private static KafkaBroker broker;
    private final MessageCodec codec = new MessageCodec();

    @TempDir
    Path temp;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new KafkaBroker();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.close();
    }

    @Test
    void everyRequestGetsExactlyOneResultAndOffsetsAreCommitted() throws Exception {
        broker.createTopic("images", 2);
        broker.createTopic("predictions", 1);
        Path model = temp.resolve("tiny");
        BuiltinModels.generate("tiny", Files.createDirectories(model), 1);
        Path images = sharedImages();

        Map<String, String> expected = new HashMap<>();  // id -> status or error code
        try (KafkaProducer<byte[], byte[]> producer = broker.producer();
             Stream<Path> files = Files.list(images)) {
            for (Path image : files.sorted().toList()) {
                String id = image.getFileName().toString();
                send(producer, id, codec.encode(InferenceRequest.of(id, image.toUri().toString())));
                expected.put(id, id.equals("truncated.jpg") ? "truncated_image" : "OK");
            }
            send(producer, "bad-json", "{not json".getBytes(StandardCharsets.UTF_8));
            expected.put("unknown", "bad_request");
            send(producer, "missing", codec.encode(InferenceRequest.of("missing", images.resolve("nope.jpg").toUri().toString())));
            expected.put("missing", "not_found");
            send(producer, "outside", codec.encode(InferenceRequest.of("outside", "file:///etc/passwd")));
            expected.put("outside", "forbidden_uri");
            send(producer, "http", codec.encode(InferenceRequest.of("http", "http://example.invalid/cat.jpg")));
            expected.put("http", "forbidden_uri");
            send(producer, "late", codec.encode(InferenceRequest.of("late", images.resolve("apple.jpg").toUri().toString())
                    .withDeadlineMs(1_000L)));
            expected.put("late", "EXPIRED");
            RecordHeaders traced = new RecordHeaders();
            traced.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".getBytes(StandardCharsets.UTF_8));
            producer.send(new ProducerRecord<>("images", null, "traced".getBytes(StandardCharsets.UTF_8),
                    codec.encode(InferenceRequest.of("traced", images.resolve("apple.jpg").toUri().toString()).withTopK(3)),
                    traced)).get();
            expected.put("traced", "OK");
        }
        int requests = expected.size();

        Map<String, String> flags = new HashMap<>();
        flags.put("bootstrap.servers", broker.bootstrapServers());
        flags.put("model.dir", model.toString());
        flags.put("fetch.file.roots", images.toString());
        flags.put("predictor.threads", "2");
        flags.put("decoder.threads", "3");  // predictor 0 reads decoders 0 and 2, predictor 1 decoder 1
        flags.put("max.in.flight", "8");
        flags.put("resume.in.flight", "4");
        flags.put("dead.letter.enabled", "true");
        flags.put("shm.dir", temp.resolve("shm").toString());
        flags.put("metrics.port", "0");
        flags.put("worker.id", "it-worker");
        List<ConsumerRecord<byte[], byte[]>> records;
        String metrics;
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags))) {
            records = broker.readAll("predictions", requests, Duration.ofSeconds(90));
            assertEquals("ready\n", http(worker.metricsPort(), "/ready"));
            assertEquals("healthy\n", http(worker.metricsPort(), "/health"));
            metrics = http(worker.metricsPort(), "/metrics");
        }
        assertTrue(!Files.exists(temp.resolve("shm")), "the worker's shared-memory directory is removed on close");
        long ok = expected.values().stream().filter("OK"::equals).count();
        assertTrue(metrics.contains("fleet_requests_total{code=\"\",status=\"ok\"} " + ok + ".0"), metrics);
        assertTrue(metrics.contains("fleet_requests_total{code=\"truncated_image\",status=\"error\"} 1.0"), metrics);
        assertTrue(metrics.contains("fleet_stage_seconds_count{stage=\"inference\"} " + ok), metrics);
        // 30 waiting requests against max.in.flight=8: intake must have paused, and resumed to finish.
        assertTrue(counter(metrics, "fleet_intake_pauses_total") >= 1, metrics);
        assertTrue(counter(metrics, "fleet_intake_resumes_total") >= 1, metrics);
        assertTrue(metrics.contains("fleet_in_flight 0.0"), "nothing left in flight: " + metrics);

        Map<String, List<InferenceResult>> byId = records.stream().map(r -> codec.decodeResult(r.value()))
                .collect(Collectors.groupingBy(InferenceResult::id));
        assertEquals(requests, records.size(), "one result per request: " + byId.keySet());
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String id = e.getKey().equals("unknown") ? byId.keySet().stream().filter(k -> k.startsWith("unknown@"))
                    .findFirst().orElse("unknown") : e.getKey();
            List<InferenceResult> results = byId.get(id);
            assertNotNull(results, "no result for " + id + "; got " + byId.keySet());
            assertEquals(1, results.size(), id);
            InferenceResult result = results.get(0);
            String outcome = result.status() == Status.ERROR ? result.error().code() : result.status().name();
            assertEquals(e.getValue(), outcome, id + ": " + result);
            assertEquals("it-worker", result.workerId());
            if (result.status() == Status.OK) {
                assertEquals(e.getKey().equals("traced") ? 3 : 5, result.predictions().size(), id);
                assertTrue(result.timingsMs().inference() > 0, id);
            }
        }

        ConsumerRecord<byte[], byte[]> traced = records.stream()
                .filter(r -> "traced".equals(new String(r.key(), StandardCharsets.UTF_8))).findFirst().orElseThrow();
        // W3C Trace Context: the result is a child span of the request's (same trace id, new span id, flags kept).
        String child = new String(traced.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8);
        assertTrue(child.matches("00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01"), child);
        assertTrue(!child.contains("b7ad6b7169203331"), child);

        long errors = expected.values().stream().filter(v -> !v.equals("OK") && !v.equals("EXPIRED")).count();
        List<ConsumerRecord<byte[], byte[]>> dead = broker.readAll("images.DLT", (int) errors, Duration.ofSeconds(20));
        assertEquals(errors, dead.size(), "every ERROR request copied to the dead-letter topic");
        assertTrue(dead.stream().allMatch(r -> r.headers().lastHeader("fleet.error.code") != null));
        for (ConsumerRecord<byte[], byte[]> copy : dead) {
            // Spring Kafka's DeadLetterPublishingRecoverer headers, decoded as Spring writes them (big-endian int/long).
            String source = new String(copy.headers().lastHeader("fleet.source").value(), StandardCharsets.UTF_8);
            assertEquals(source, "images-" + java.nio.ByteBuffer.wrap(copy.headers().lastHeader(
                    "kafka_dlt-original-partition").value()).getInt() + "@" + java.nio.ByteBuffer.wrap(
                    copy.headers().lastHeader("kafka_dlt-original-offset").value()).getLong());
            assertEquals("images", new String(copy.headers().lastHeader("kafka_dlt-original-topic").value(),
                    StandardCharsets.UTF_8));
            assertEquals("inference-fleet", new String(copy.headers().lastHeader("kafka_dlt-original-consumer-group")
                    .value(), StandardCharsets.UTF_8));
            assertEquals("CreateTime", new String(copy.headers().lastHeader("kafka_dlt-original-timestamp-type").value(),
                    StandardCharsets.UTF_8));
            long sentMs = java.nio.ByteBuffer.wrap(copy.headers().lastHeader("kafka_dlt-original-timestamp").value())
                    .getLong();
            assertTrue(Math.abs(System.currentTimeMillis() - sentMs) < 600_000, "original timestamp " + sentMs);
        }

        broker.committedVsEnd("inference-fleet", "images").forEach((tp, offsets) ->
                assertEquals(offsets[1], offsets[0], "committed offset of " + tp + " is its end"));
    }

    @Test
    void resultsCarryTheLabelsOfTheClassIdMapFileTheModelsInferenceYmlNames() throws Exception {
        broker.createTopic("labelled", 1);
        broker.createTopic("labelled-results", 1);
        Path model = temp.resolve("tiny-labelled");
        BuiltinModels.generate("tiny", Files.createDirectories(model), 1);  // 10 classes
        Path yml = model.resolve("inference.yml");
        Files.writeString(yml, Files.readString(yml) + "  class_id_map_file: ppcls/utils/tiny_label_list.txt\n");
        StringBuilder labels = new StringBuilder();
        for (int id = 9; id >= 0; id--) {  // ids out of line order: labels go by id
            labels.append(id).append(" label of class ").append(id).append('\n');
        }
        Files.writeString(model.resolve("tiny_label_list.txt"), labels.toString());
        Path images = sharedImages();
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            producer.send(new ProducerRecord<>("labelled", "apple".getBytes(StandardCharsets.UTF_8), codec.encode(
                    InferenceRequest.of("apple", images.resolve("apple.jpg").toUri().toString()).withTopK(10)))).get();
        }
        Map<String, String> flags = WorkerFlags.of(broker.bootstrapServers(), "labelled", "labelled-results", "labelled",
                model, images);
        flags.put("shm.dir", temp.resolve("shm").toString());
        flags.put("metrics.port", "-1");
        InferenceResult result;
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags))) {
            result = codec.decodeResult(broker.readAll("labelled-results", 1, Duration.ofSeconds(60)).get(0).value());
        }
        assertEquals(Status.OK, result.status(), result.toString());
        assertEquals(10, result.predictions().size());
        for (InferenceResult.Prediction p : result.predictions()) {
            assertEquals("label of class " + p.classId(), p.label(), result.toString());
        }
    }

    @Test
    void resnet50AnswersRealPhotosWithTopFiveOfAThousandClasses() throws Exception {
        broker.createTopic("photos", 1);
        broker.createTopic("photo-results", 1);
        Path model = temp.resolve("resnet50");
        BuiltinModels.generate("resnet50", Files.createDirectories(model), 42);
        Path images = sharedImages();
        List<String> photos = List.of("squirrel_cls.jpg", "chelsea.png", "chessboard_GRAY_U16.tif");
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (String photo : photos) {
                producer.send(new ProducerRecord<>("photos", photo.getBytes(StandardCharsets.UTF_8),
                        codec.encode(InferenceRequest.of(photo, images.resolve(photo).toUri().toString())))).get();
            }
        }
        Map<String, String> flags = WorkerFlags.of(broker.bootstrapServers(), "photos", "photo-results", "resnet50-test",
                model, images);
        flags.put("shm.dir", temp.resolve("shm").toString());
        flags.put("metrics.port", "-1");
        List<ConsumerRecord<byte[], byte[]>> records;
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags))) {
            records = broker.readAll("photo-results", photos.size(), Duration.ofSeconds(90));
        }
        assertEquals(photos.size(), records.size());
        for (ConsumerRecord<byte[], byte[]> record : records) {
            InferenceResult result = codec.decodeResult(record.value());
            assertEquals(Status.OK, result.status(), result.toString());
            assertEquals("resnet50", result.model().name());
            assertEquals(5, result.predictions().size());
            float previous = Float.MAX_VALUE;
            for (InferenceResult.Prediction p : result.predictions()) {
                assertTrue(p.classId() >= 0 && p.classId() < 1000, result.toString());
                assertTrue(p.score() <= previous, "best first: " + result.predictions());
                previous = p.score();
            }
        }
    }

    @Test
    void requestsArrivingOneByOneAreSpreadOverThePredictors() throws Exception {
        broker.createTopic("trickle", 1);
        broker.createTopic("trickle-results", 1);
        Path model = temp.resolve("tiny");
        BuiltinModels.generate("tiny", Files.createDirectories(model), 1);
        Path images = sharedImages();
        Map<String, String> flags = WorkerFlags.of(broker.bootstrapServers(), "trickle", "trickle-results", "trickle",
                model, images);
        flags.put("predictor.threads", "2");
        flags.put("shm.dir", temp.resolve("shm").toString());
        flags.put("metrics.port", "0");
        String metrics;
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags));
             KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (int i = 0; i < 6; i++) {  // one at a time: every lane is idle when a request arrives
                producer.send(new ProducerRecord<>("trickle", ("t" + i).getBytes(StandardCharsets.UTF_8),
                        codec.encode(InferenceRequest.of("t" + i, images.resolve("apple.jpg").toUri().toString())))).get();
                assertEquals(i + 1, broker.readAll("trickle-results", i + 1, Duration.ofSeconds(30)).size());
            }
            metrics = http(worker.metricsPort(), "/metrics");
        }
        // Idle lanes take turns; balancing on the decoders' (mostly empty) queues sent all to lane 0.
        for (String lane : List.of("0", "1")) {
            double busy = metrics.lines().filter(l -> l.startsWith("fleet_predictor_busy_seconds_total{predictor=\"" + lane + "\"}"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(0);
            assertTrue(busy > 0, "predictor " + lane + " never ran:\n" + metrics);
        }
    }

    private static double counter(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.split(" ")[1]))
                .findFirst().orElse(-1);
    }

    private static String http(int port, String path) throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        var response = client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>("images", key.getBytes(StandardCharsets.UTF_8), value)).get();
    }

    static Path sharedImages() {
        return SharedImages.dir();
    }
}
