package io.inferencefleet.ops.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.kafka.local.SingleNodeKafka;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.worker.Worker;
import io.inferencefleet.worker.config.WorkerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interoperability with Kafka's own tools: a request typed into Kafka's console producer is answered
 * by a real worker (tiny model), and Kafka's console consumer prints the result. Both tools run as
 * child JVMs from the kafka-tools jar, against {@code fleet broker}'s broker ({@link SingleNodeKafka}, persistent mode).
 */
@Tag("slow")
@Timeout(300)  // seconds; a stuck broker shutdown fails the test instead of hanging the build
class ConsoleToolsInteropTest {
    private static final String CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
    private static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";

    @TempDir
    Path temp;

    @Test
    void consoleProducerRequestIsAnsweredAndReadableByTheConsoleConsumer() throws Exception {
        Path images = SubmitAndResultsKafkaTest.sharedImages();
        Path model = Files.createDirectories(temp.resolve("tiny"));
        BuiltinModels.generate("tiny", model, 1);

        try (SingleNodeKafka broker = SingleNodeKafka.startPersistent(temp.resolve("kafka"), freePort(), freePort(), Map.of())) {
            String bootstrap = broker.bootstrapServers();
            try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("images", 2, (short) 1),
                        new NewTopic("predictions", 1, (short) 1))).all().get();
            }

            // What a user types: key|JSON, the JSON exactly as the README documents it.
            String request = "{\"id\":\"console-1\",\"imageUri\":\"" + images.resolve("apple.jpg").toUri()
                    + "\",\"topK\":3}";
            Result produced = runTool("producer", CONSOLE_PRODUCER, "interop-key|" + request + "\n",
                    "--bootstrap-server", bootstrap, "--topic", "images",
                    // 4.x names; the older --property still works but prints a deprecation notice.
                    "--reader-property", "parse.key=true", "--reader-property", "key.separator=|");
            assertEquals(0, produced.exitCode(), produced.toString());

            Map<String, String> flags = new HashMap<>();
            flags.put("bootstrap.servers", bootstrap);
            flags.put("model.dir", model.toString());
            flags.put("fetch.file.roots", images.toString());
            flags.put("predictor.threads", "1");
            flags.put("shm.dir", temp.resolve("shm").toString());
            flags.put("metrics.port", "0");
            flags.put("worker.id", "interop-worker");
            Result consumed;
            try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags))) {
                consumed = runTool("consumer", CONSOLE_CONSUMER, "",
                        "--bootstrap-server", bootstrap, "--topic", "predictions", "--from-beginning",
                        "--max-messages", "1", "--timeout-ms", "90000", "--formatter-property", "print.key=true");
            }
            assertEquals(0, consumed.exitCode(), consumed.toString());

            // print.key=true: KEY<TAB>VALUE, one line per record.
            List<String> lines = consumed.stdout().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), consumed.toString());
            String[] keyAndValue = lines.get(0).split("\t", 2);
            assertEquals("interop-key", keyAndValue[0], "the request's key is carried over to the result");
            InferenceResult result = new MessageCodec().decodeResult(keyAndValue[1].getBytes(StandardCharsets.UTF_8));
            assertEquals("console-1", result.id());
            assertEquals(InferenceResult.Status.OK, result.status(), keyAndValue[1]);
            assertEquals(3, result.predictions().size());
            assertEquals("interop-worker", result.workerId());
            assertTrue(keyAndValue[1].contains("\"status\":\"OK\""), keyAndValue[1]);
            assertTrue(keyAndValue[1].contains("\"id\":\"console-1\""), keyAndValue[1]);
        }
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    /** Runs a Kafka tool as a child JVM with the project's JVM flags and the test classpath. */
    private Result runTool(String name, String mainClass, String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        Path stdinFile = Files.writeString(temp.resolve(name + ".in"), stdin);
        Path stdout = temp.resolve(name + ".out");
        Path stderr = temp.resolve(name + ".err");
        Process process = new ProcessBuilder(command).redirectInput(stdinFile.toFile())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError(name + " did not finish in 120 s; stderr: " + Files.readString(stderr));
        }
        return new Result(process.exitValue(), Files.readString(stdout), Files.readString(stderr));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
