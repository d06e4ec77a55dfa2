package io.inferencefleet.client;

import io.inferencefleet.testing.KafkaBroker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The client library against a real KRaft broker, with an in-test echo worker answering requests. */
@Tag("slow")
class InferenceClientTest {
    private static final AtomicInteger TOPICS = new AtomicInteger();
    private static KafkaBroker broker;
    private final MessageCodec codec = new MessageCodec();

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new KafkaBroker();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.close();
    }

    /** Fresh requests/results topics per test, so that tests cannot see each other's records. */
    private static String[] topics(int requestPartitions, int resultPartitions) throws Exception {
        int n = TOPICS.incrementAndGet();
        String[] names = {"requests-" + n, "results-" + n};
        broker.createTopic(names[0], requestPartitions);
        broker.createTopic(names[1], resultPartitions);
        return names;
    }

    private static InferenceClient client(String[] topics, Duration timeout) {
        return InferenceClient.builder(broker.clientConfig()).requestsTopic(topics[0]).resultsTopic(topics[1])
                .defaultTimeout(timeout).build();
    }

    @Test
    void manyConcurrentRequestsEachCompleteWithTheirOwnResult() throws Exception {
        String[] topics = topics(3, 3);
        int threads = 8;
        int perThread = 50;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (EchoWorker echo = new EchoWorker(broker, topics[0], topics[1]);
             InferenceClient client = client(topics, Duration.ofSeconds(60))) {
            List<Future<List<CompletableFuture<InferenceResult>>>> submitted = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                submitted.add(pool.submit(() -> {
                    List<CompletableFuture<InferenceResult>> futures = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        String id = "t" + thread + "-r" + i;
                        futures.add(client.submit(InferenceRequest.of(id, "file:///images/" + id + ".jpg")));
                    }
                    return futures;
                }));
            }
            int completed = 0;
            for (int t = 0; t < threads; t++) {
                List<CompletableFuture<InferenceResult>> futures = submitted.get(t).get(30, TimeUnit.SECONDS);
                for (int i = 0; i < perThread; i++) {
                    String id = "t" + t + "-r" + i;
                    InferenceResult result = futures.get(i).get(60, TimeUnit.SECONDS);
                    assertEquals(id, result.id());
                    assertEquals("file:///images/" + id + ".jpg", result.attributes().get("imageUri"),
                            "the result of the request with this id, not another one");
                    completed++;
                }
            }
            assertEquals(threads * perThread, completed);
            assertEquals(0, client.pendingCount());
            assertEquals(threads * perThread, echo.requestsSeen());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRequestWithoutResultTimesOutWithAnExceptionNamingItsId() throws Exception {
        String[] topics = topics(1, 1);
        try (EchoWorker echo = new EchoWorker(broker, topics[0], topics[1]);
             InferenceClient client = client(topics, Duration.ofSeconds(60))) {
            long start = System.nanoTime();
            CompletableFuture<InferenceResult> silent =
                    client.submit(InferenceRequest.of("silent-1", "file:///a.jpg"), Duration.ofMillis(700));
            CompletableFuture<InferenceResult> answered = client.submit(InferenceRequest.of("answered-1", "file:///b.jpg"));
            ExecutionException e = assertThrows(ExecutionException.class, () -> silent.get(10, TimeUnit.SECONDS));
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertInstanceOf(TimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("'silent-1'"), e.getCause().getMessage());
            assertTrue(elapsedMs >= 700, "timed out after " + elapsedMs + " ms, before its 700 ms");
            assertEquals("answered-1", answered.get(30, TimeUnit.SECONDS).id());
            assertEquals(0, client.pendingCount());
        }
    }

    @Test
    void closeFailsPendingFuturesAndLaterSubmissions() throws Exception {
        String[] topics = topics(1, 1);
        CompletableFuture<InferenceResult> pending;
        InferenceClient client = client(topics, Duration.ofSeconds(60));
        try (EchoWorker echo = new EchoWorker(broker, topics[0], topics[1])) {
            pending = client.submit(InferenceRequest.of("silent-close", "file:///a.jpg"));
            waitUntil(() -> echo.requestsSeen() == 1, "the request reached the topic");
            assertEquals(1, client.pendingCount());
            long start = System.nanoTime();
            client.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> pending.get(5, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("closed before the result for request id 'silent-close'"),
                    e.getCause().getMessage());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "close took too long");
            assertEquals(0, client.pendingCount());

            CompletableFuture<InferenceResult> late = client.submit(InferenceRequest.of("late", "file:///b.jpg"));
            ExecutionException lateError = assertThrows(ExecutionException.class, () -> late.get(1, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, lateError.getCause());
            assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("inference-client-results")),
                    "the results thread stopped");
            client.close();  // a second close is harmless
        }
    }

    @Test
    void resultsForUnknownIdsAndUndecodableRecordsAreIgnored() throws Exception {
        String[] topics = topics(1, 1);
        try (InferenceClient client = client(topics, Duration.ofSeconds(60));
             KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            CompletableFuture<InferenceResult> mine = client.submit(InferenceRequest.of("mine", "file:///a.jpg"));
            InferenceResult stranger = new InferenceResult("someone-else", InferenceResult.Status.OK, null, List.of(),
                    null, "other", null, null, Map.of());
            producer.send(new ProducerRecord<>(topics[1], codec.encode(stranger))).get();
            producer.send(new ProducerRecord<>(topics[1], "{not json".getBytes(StandardCharsets.UTF_8))).get();
            waitUntil(() -> client.ignoredResults() == 2, "both foreign records read");
            assertTrue(!mine.isDone(), "a foreign result must not complete our future");
            assertEquals(1, client.pendingCount());

            InferenceResult ours = new InferenceResult("mine", InferenceResult.Status.ERROR, null, List.of(), null, "w",
                    null, new InferenceResult.ErrorInfo("not_found", "no such file"), Map.of());
            producer.send(new ProducerRecord<>(topics[1], codec.encode(ours))).get();
            InferenceResult result = mine.get(30, TimeUnit.SECONDS);
            assertEquals(InferenceResult.Status.ERROR, result.status());
            assertEquals("not_found", result.error().code());

            producer.send(new ProducerRecord<>(topics[1], codec.encode(ours))).get();  // a duplicate
            waitUntil(() -> client.ignoredResults() == 3, "the duplicate read and ignored");
        }
    }

    @Test
    void readCommittedClientsNeverSeeAResultOfAnAbortedTransaction() throws Exception {
        String[] topics = topics(1, 1);
        Map<String, Object> tx = new java.util.HashMap<>();
        tx.put("bootstrap.servers", broker.bootstrapServers());
        tx.put("transactional.id", "client-test-" + topics[1]);
        tx.put("key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        tx.put("value.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        try (InferenceClient committed = InferenceClient.builder(broker.clientConfig()).requestsTopic(topics[0])
                     .resultsTopic(topics[1]).readCommitted(true).build();
             InferenceClient uncommitted = client(topics, Duration.ofSeconds(60));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(tx)) {
            CompletableFuture<InferenceResult> viaCommitted = committed.submit(InferenceRequest.of("t1", "file:///a.jpg"));
            CompletableFuture<InferenceResult> viaUncommitted = uncommitted.submit(InferenceRequest.of("t1", "file:///a.jpg"));
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topics[1], codec.encode(new InferenceResult("t1", InferenceResult.Status.ERROR,
                    null, List.of(), null, "zombie", null, new InferenceResult.ErrorInfo("aborted", "never committed"),
                    Map.of())))).get();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topics[1], codec.encode(new InferenceResult("t1", InferenceResult.Status.OK,
                    null, List.of(), null, "owner", null, null, Map.of())))).get();
            producer.commitTransaction();
            assertEquals("owner", viaCommitted.get(30, TimeUnit.SECONDS).workerId(), "the committed answer only");
            assertEquals("zombie", viaUncommitted.get(30, TimeUnit.SECONDS).workerId(),
                    "read_uncommitted sees the aborted one first (the test would pass without read_committed otherwise)");
        }
    }

    @Test
    void resultsAlreadyOnTheTopicBeforeTheClientStartedAreNotDelivered() throws Exception {
        String[] topics = topics(1, 1);
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            InferenceResult old = new InferenceResult("reused", InferenceResult.Status.ERROR, null, List.of(), null, "w",
                    null, new InferenceResult.ErrorInfo("old", "from an earlier run"), Map.of());
            producer.send(new ProducerRecord<>(topics[1], codec.encode(old))).get();
        }
        // Even with earliest as the consumer's reset policy: the client seeks to the captured end offsets itself.
        Map<String, Object> config = new java.util.HashMap<>(broker.clientConfig());
        config.put("auto.offset.reset", "earliest");
        try (EchoWorker echo = new EchoWorker(broker, topics[0], topics[1]);
             InferenceClient client = InferenceClient.builder(config).requestsTopic(topics[0]).resultsTopic(topics[1]).build()) {
            InferenceResult result = client.submit(InferenceRequest.of("reused", "file:///new.jpg")).get(30, TimeUnit.SECONDS);
            assertEquals(InferenceResult.Status.OK, result.status(), "the echo's answer, not the old result");
            assertEquals(0, client.ignoredResults());
        }
    }

    @Test
    void aSecondRequestWithAnIdInFlightIsRefused() throws Exception {
        String[] topics = topics(1, 1);
        try (InferenceClient client = client(topics, Duration.ofSeconds(60))) {
            client.submit(InferenceRequest.of("dup", "file:///a.jpg"));
            CompletableFuture<InferenceResult> second = client.submit(InferenceRequest.of("dup", "file:///b.jpg"));
            ExecutionException e = assertThrows(ExecutionException.class, () -> second.get(1, TimeUnit.SECONDS));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("'dup'"), e.getCause().getMessage());
        }
    }

    @Test
    void aMissingResultsTopicFailsTheBuildClearly() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> InferenceClient.builder(broker.clientConfig())
                .resultsTopic("no-such-results").build());
        assertTrue(e.getMessage().contains("no-such-results"), e.getMessage());
    }

    @Test
    void publisherSendsKeyHeadersAndDeadline() throws Exception {
        String[] topics = topics(2, 1);
        try (RequestPublisher publisher = new RequestPublisher(topics[0], broker.clientConfig())) {
            publisher.publish(InferenceRequest.of("one", "file:///one.jpg").withDeadlineMs(1_900_000_000_000L),
                    "camera-7", Map.of("traceparent", "00-abc-def-01")).get(30, TimeUnit.SECONDS);
            List<CompletableFuture<org.apache.kafka.clients.producer.RecordMetadata>> many = publisher.publishAll(List.of(
                    InferenceRequest.of("two", "file:///two.jpg"), InferenceRequest.of("three", "file:///three.jpg")));
            for (var f : many) {
                assertEquals(topics[0], f.get(30, TimeUnit.SECONDS).topic());
            }
        }
        List<ConsumerRecord<byte[], byte[]>> records = broker.readAll(topics[0], 3, Duration.ofSeconds(30));
        assertEquals(3, records.size());
        for (ConsumerRecord<byte[], byte[]> record : records) {
            InferenceRequest request = codec.decodeRequest(record.value()).request();
            String key = new String(record.key(), StandardCharsets.UTF_8);
            if (request.id().equals("one")) {
                assertEquals("camera-7", key);
                assertEquals(1_900_000_000_000L, request.deadlineMs());
                assertEquals("00-abc-def-01", new String(record.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8));
            } else {
                assertEquals(request.id(), key, "keyed by id by default");
                assertNull(request.deadlineMs());
                assertNull(record.headers().lastHeader("traceparent"));
            }
        }
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }
}
