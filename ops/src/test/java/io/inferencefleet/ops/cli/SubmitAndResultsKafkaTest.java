package io.inferencefleet.ops.cli;

import io.inferencefleet.testing.SharedImages;
import io.inferencefleet.testing.KafkaBroker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.worker.Worker;
import io.inferencefleet.worker.config.WorkerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code fleet submit --wait} and {@code fleet results} against a real KRaft broker and a real worker (tiny model). */
@Tag("slow")
class SubmitAndResultsKafkaTest {
    private static KafkaBroker broker;
    private final MessageCodec codec = new MessageCodec();

    @TempDir
    Path temp;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new KafkaBroker();
        broker.createTopic("images", 2);
        broker.createTopic("predictions", 1);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.close();
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run fleet(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = FleetCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void submitWaitPrintsOneResultPerImageFromARealWorker() throws Exception {
        Path model = Files.createDirectories(temp.resolve("tiny"));
        BuiltinModels.generate("tiny", model, 1);
        Path images = sharedImages();
        Map<String, String> flags = new HashMap<>();
        flags.put("bootstrap.servers", broker.bootstrapServers());
        flags.put("model.dir", model.toString());
        flags.put("fetch.file.roots", images.toString());
        flags.put("predictor.threads", "1");
        flags.put("shm.dir", temp.resolve("shm").toString());
        flags.put("worker.id", "submit-it");

        Run submit;
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags))) {
            submit = fleet("submit", "--wait", "--bootstrap-servers", broker.bootstrapServers(), "--timeout-ms", "90000",
                    "--id-prefix", "it-", "--rate", "20", "--top-k", "3",
                    images.resolve("apple.jpg").toString(), images.resolve("truncated.jpg").toString());
        }
        assertEquals(0, submit.exitCode(), submit.out() + submit.err());
        List<String> lines = submit.out().lines().toList();
        assertEquals(2, lines.size(), submit.out());
        String apple = lines.stream().filter(l -> l.startsWith("it-0 ")).findFirst().orElseThrow(() -> new AssertionError(submit.out()));
        assertTrue(apple.matches("it-0\\s+OK\\s+class=\\d+ score=\\d\\.\\d{4}\\s+latency=\\d+\\.\\dms"), apple);
        String truncated = lines.stream().filter(l -> l.startsWith("it-1 ")).findFirst().orElseThrow(() -> new AssertionError(submit.out()));
        assertTrue(truncated.matches("it-1\\s+ERROR\\s+error=truncated_image\\s+latency=\\d+\\.\\dms"), truncated);
        assertTrue(submit.err().contains("2 requests in") && submit.err().contains("1 OK, 1 ERROR, 0 EXPIRED, 0 without result"),
                submit.err());
        assertTrue(submit.err().contains("2/2 sent  2 results"), "progress bar: " + submit.err());

        // What was published: real-path file:// URIs with the requested top-k.
        List<ConsumerRecord<byte[], byte[]>> requests = broker.readAll("images", 2, Duration.ofSeconds(20));
        assertEquals(2, requests.size());
        for (ConsumerRecord<byte[], byte[]> record : requests) {
            InferenceRequest request = codec.decodeRequest(record.value()).request();
            String file = request.id().equals("it-0") ? "apple.jpg" : "truncated.jpg";
            assertEquals(images.resolve(file).toUri().toString(), request.imageUri());
            assertEquals(3, request.topK());
        }

        Run table = fleet("results", "--bootstrap-servers", broker.bootstrapServers(), "--from-beginning", "--max", "2");
        assertEquals(0, table.exitCode(), table.err());
        List<String> rows = table.out().lines().toList();
        assertEquals(3, rows.size(), table.out());
        assertTrue(rows.get(0).startsWith("ID ") && rows.get(0).contains("STATUS"), rows.get(0));
        assertTrue(rows.stream().anyMatch(r -> r.matches("it-0\\s+OK\\s+class=\\d+ score=\\S+\\s+\\d+\\.\\d\\s+submit-it")), table.out());
        assertTrue(rows.stream().anyMatch(r -> r.matches("it-1\\s+ERROR\\s+error=truncated_image\\s+\\S+\\s+submit-it")), table.out());

        Run json = fleet("results", "--bootstrap-servers", broker.bootstrapServers(), "--from-beginning", "--max", "2", "--json");
        assertEquals(0, json.exitCode(), json.err());
        List<String> jsonLines = json.out().lines().toList();
        assertEquals(2, jsonLines.size(), json.out());
        for (String line : jsonLines) {
            var result = codec.decodeResult(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertTrue(result.id().equals("it-0") || result.id().equals("it-1"), line);
        }
    }

    @Test
    void resultsReadCommittedShowsNoResultOfAnAbortedTransaction() throws Exception {
        broker.createTopic("tx-results", 1);
        Map<String, Object> tx = new HashMap<>();
        tx.put("bootstrap.servers", broker.bootstrapServers());
        tx.put("transactional.id", "results-command-test");
        tx.put("key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        tx.put("value.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(tx)) {
            producer.initTransactions();
            for (String id : List.of("aborted-1", "committed-1")) {
                producer.beginTransaction();
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("tx-results", codec.encode(
                        new io.inferencefleet.messages.InferenceResult(id, io.inferencefleet.messages.InferenceResult.Status.OK,
                                null, List.of(), null, "w", null, null, Map.of())))).get();
                if (id.startsWith("aborted")) {
                    producer.abortTransaction();
                } else {
                    producer.commitTransaction();
                }
            }
        }
        Run committed = fleet("results", "--bootstrap-servers", broker.bootstrapServers(), "--topic", "tx-results",
                "--from-beginning", "--max", "1", "--json", "--read-committed");
        assertEquals(0, committed.exitCode(), committed.err());
        assertTrue(committed.out().contains("\"committed-1\"") && !committed.out().contains("aborted-1"), committed.out());
        Run all = fleet("results", "--bootstrap-servers", broker.bootstrapServers(), "--topic", "tx-results",
                "--from-beginning", "--max", "1", "--json");
        assertTrue(all.out().contains("\"aborted-1\""), "read_uncommitted (the default) shows it: " + all.out());
    }

    @Test
    void submitWithoutWaitPublishesAndExitsZero() throws Exception {
        broker.createTopic("nowait", 1);
        Path dir = Files.createDirectories(temp.resolve("imgs"));
        Files.writeString(dir.resolve("x.jpg"), "x");
        Files.writeString(dir.resolve("y.jpg"), "y");
        long start = System.nanoTime();
        Run run = fleet("submit", "--bootstrap-servers", broker.bootstrapServers(), "--topic", "nowait",
                "--id-prefix", "nw-", "--rate", "4", dir.toString(), "https://images.example/z.jpg");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("3 requests published to nowait"), run.err());
        assertTrue(seconds >= 0.5, "3 requests at 4/s take at least 2 intervals (0.5 s), took " + seconds);
        List<ConsumerRecord<byte[], byte[]>> records = broker.readAll("nowait", 3, Duration.ofSeconds(20));
        assertEquals(List.of("nw-0", "nw-1", "nw-2"),
                records.stream().map(r -> codec.decodeRequest(r.value()).request().id()).toList());
        assertEquals("https://images.example/z.jpg", codec.decodeRequest(records.get(2).value()).request().imageUri());
    }

    @Test
    void submitWaitExitsNonZeroWhenResultsDoNotArrive() throws Exception {
        broker.createTopic("unserved", 1);
        broker.createTopic("unserved-results", 1);
        Path image = Files.writeString(temp.resolve("a.jpg"), "x");
        Run run = fleet("submit", "--wait", "--bootstrap-servers", broker.bootstrapServers(), "--topic", "unserved",
                "--results-topic", "unserved-results", "--timeout-ms", "500", "--id-prefix", "lost-", image.toString());
        assertEquals(1, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().matches("(?s)lost-0\\s+TIMEOUT\\s+no result for request id 'lost-0'.*"), run.out());
        assertTrue(run.err().contains("0 OK, 0 ERROR, 0 EXPIRED, 1 without result"), run.err());
    }

    static Path sharedImages() {
        return SharedImages.dir();
    }
}
