package io.inferencefleet.ops.cli;

import io.inferencefleet.testing.KafkaBroker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.ops.fleet.FleetState;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code fleet up} as its own JVM, two "NUMA nodes" (CPU 0 and CPU 1) on a real broker: both
 * workers become ready, every thread of each worker JVM runs on its node's CPU, a worker killed
 * with SIGKILL is restarted, {@code fleet status} lists both, SIGTERM stops everything.
 */
@Tag("slow")
class FleetUpKafkaTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(45);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    @TempDir
    Path temp;

    @Test
    void upStartsPinnedWorkersRestartsAKilledOneAndStatusListsThem() throws Exception {
        Path runDir = temp.resolve("run");
        Process up = null;
        try (KafkaBroker broker = new KafkaBroker()) {
            broker.createTopic("up-in", 2);
            broker.createTopic("up-out", 1);
            Path model = Files.createDirectories(temp.resolve("tiny"));
            BuiltinModels.generate("tiny", model, 1);
            Path images = FleetCommandTest.sharedImages().toRealPath();
            int basePort = twoFreePorts();

            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "@" + jvmOptions(), "-Dfleet.jvm.options=" + jvmOptions(), "-cp", System.getProperty("java.class.path"),
                    FleetCommand.class.getName(), "up", "--per-node", "1", "--run-dir", runDir.toString(),
                    "--numa.topology=0:0;1:1", "--bootstrap.servers=" + broker.bootstrapServers(), "--input.topic=up-in",
                    "--results.topic=up-out", "--group.id=up-group", "--model.dir=" + model,
                    "--fetch.file.roots=" + images, "--metrics.port=" + basePort, "--shm.dir=" + temp.resolve("shm"),
                    "--shutdown.timeout.ms=10000",
                    // The killed worker's partition moves to its replacement once its session expires.
                    "--kafka.consumer.session.timeout.ms=6000", "--kafka.consumer.heartbeat.interval.ms=1000"));
            Path upLog = temp.resolve("up.log");
            up = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(upLog.toFile()).start();

            Process upProcess = up;
            await(() -> Files.exists(runDir.resolve(FleetState.FILE_NAME)) && state(runDir).workers().size() == 2
                    && state(runDir).workers().stream().allMatch(w -> w.pid() > 0 && ready(w.metricsPort())),
                    "both workers ready", upLog, upProcess);
            FleetState state = state(runDir);
            String host = state.host();
            assertEquals(List.of(host + "-n0-w0", host + "-n1-w0"), state.workers().stream().map(FleetState.Worker::id).toList());
            for (FleetState.Worker w : state.workers()) {
                assertEquals(Integer.toString(w.node()), w.cpus());
                assertPinned(w.pid(), w.cpus());
            }

            MessageCodec codec = new MessageCodec();
            try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
                for (int i = 0; i < 20; i++) {
                    String id = "up-" + i;
                    producer.send(new ProducerRecord<>("up-in", id.getBytes(StandardCharsets.UTF_8),
                            codec.encode(InferenceRequest.of(id, images.resolve("apple.jpg").toUri().toString()))));
                }
            }
            List<String> results = broker.readAll("up-out", 20, TIMEOUT).stream()
                    .map(r -> codec.decodeResult(r.value())).map(r -> r.status() + " " + r.error()).toList();
            assertEquals(20, results.size(), "results from the fleet");
            assertTrue(results.stream().allMatch(r -> r.startsWith("OK")), results.toString());

            FleetState.Worker victim = state.workers().get(0);
            ProcessHandle.of(victim.pid()).orElseThrow().destroyForcibly();  // SIGKILL
            await(() -> {
                FleetState.Worker w = state(runDir).workers().get(0);
                return w.pid() > 0 && w.pid() != victim.pid() && w.restarts() == 1 && ready(w.metricsPort());
            }, "the killed worker restarted and ready", upLog, upProcess);
            assertPinned(state(runDir).workers().get(0).pid(), "0");
            String events = Files.readString(upLog);
            assertTrue(events.contains("event=worker_exited id=" + victim.id() + " pid=" + victim.pid() + " exit_code=137"), events);
            assertTrue(events.contains("event=worker_restarting id=" + victim.id() + " exit_code=137 backoff_ms=1000"), events);

            try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {  // traffic while status samples
                for (int i = 0; i < 600; i++) {
                    String id = "more-" + i;
                    producer.send(new ProducerRecord<>("up-in", id.getBytes(StandardCharsets.UTF_8),
                            codec.encode(InferenceRequest.of(id, images.resolve("apple.jpg").toUri().toString()))));
                }
            }
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine cli = FleetCommand.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            assertEquals(0, cli.execute("status", "--run-dir", runDir.toString()), err.toString());
            String status = out.toString();
            System.out.println(status);
            for (FleetState.Worker w : state(runDir).workers()) {
                assertTrue(status.lines().anyMatch(l -> l.startsWith(w.id()) && l.contains(" " + w.pid() + " ")
                        && l.contains("yes   yes")), status);
            }
            assertTrue(status.contains("group    up-group: Stable, 2 members, 2 of 2 partitions of up-in assigned, total lag "),
                    status);

            List<Long> pids = state(runDir).workers().stream().map(FleetState.Worker::pid).toList();
            up.destroy();  // SIGTERM, as Ctrl-C would
            assertTrue(up.waitFor(30, TimeUnit.SECONDS), "fleet up exits after stopping its workers");
            assertEquals(143, up.exitValue());
            for (long pid : pids) {
                assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "worker " + pid + " stopped");
            }
            assertTrue(state(runDir).workers().stream().allMatch(w -> w.state().equals("STOPPED") && w.lastExitCode() == 143),
                    state(runDir).toString());
        } finally {
            if (up != null && up.isAlive()) {
                up.destroyForcibly();
                stopLeftovers(runDir);
            }
        }
    }

    /** Every thread of the process (GC and JIT included) may run only on {@code cpus}. */
    private static void assertPinned(long pid, String cpus) throws IOException {
        List<Path> tasks;
        try (Stream<Path> list = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            tasks = list.toList();
        }
        assertTrue(tasks.size() > 10, "a JVM's threads: " + tasks.size());
        for (Path task : tasks) {
            try {
                String allowed = Files.readAllLines(task.resolve("status")).stream()
                        .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow()
                        .substring("Cpus_allowed_list:".length()).trim();
                assertEquals(cpus, allowed, "thread " + task + " of worker " + pid);
            } catch (java.nio.file.NoSuchFileException threadEnded) {
                // threads come and go
            }
        }
    }

    private boolean ready(int port) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static FleetState state(Path runDir) {
        return FleetState.read(runDir);
    }

    private static void await(BooleanSupplier condition, String what, Path upLog, Process up) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline || !up.isAlive()) {
                throw new AssertionError("timed out waiting for: " + what + "; fleet up output:\n" + Files.readString(upLog));
            }
            Thread.sleep(200);
        }
    }

    private static void stopLeftovers(Path runDir) {
        try {
            state(runDir).workers().forEach(w -> ProcessHandle.of(w.pid()).ifPresent(ProcessHandle::destroyForcibly));
        } catch (RuntimeException ignored) {
            // no state: nothing was started
        }
    }

    private static Path jvmOptions() {
        return Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath();
    }

    private static int twoFreePorts() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket a = new ServerSocket(0)) {
                int port = a.getLocalPort();
                try (ServerSocket b = new ServerSocket(port + 1)) {
                    return port;
                } catch (IOException taken) {
                    // try another pair
                }
            }
        }
        throw new IOException("no two consecutive free ports");
    }
}
