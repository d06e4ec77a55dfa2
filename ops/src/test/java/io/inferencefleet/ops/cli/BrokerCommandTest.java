package io.inferencefleet.ops.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * {@code fleet broker} as a user runs it: its own JVM, ready line on stdout, serving clients, and a
 * SIGTERM (what Ctrl-C and service managers send) ends it with a clean Kafka shutdown.
 */
@Tag("slow")
@Timeout(120)  // seconds; a stuck broker shutdown fails the test instead of hanging the build
class BrokerCommandTest {
    @TempDir
    Path temp;

    @Test
    void runsInTheForegroundAndStopsCleanlyOnSigterm() throws Exception {
        Path dir = temp.resolve("kafka");
        int port = freePort();
        Process process = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), FleetCommand.class.getName(),
                "broker", "--dir", dir.toString(), "--port", Integer.toString(port),
                "--controller-port", Integer.toString(freePort()))
                .redirectError(temp.resolve("stderr").toFile()).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String ready = out.readLine();
            assertTrue(ready != null && ready.startsWith("broker   KRaft Kafka ")
                    && ready.contains(" at 127.0.0.1:" + port + " ") && ready.contains("formatted"),
                    ready + "\n" + Files.readString(temp.resolve("stderr")));

            try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", "127.0.0.1:" + port))) {
                assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
                admin.createTopics(List.of(new NewTopic("t", 1, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS);
            }

            process.destroy();  // SIGTERM
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "stops within 60 s of SIGTERM");
        } finally {
            process.destroyForcibly();
        }
        assertEquals(143, process.exitValue(), "ended by SIGTERM after the shutdown hook ran");
        assertTrue(Files.exists(dir.resolve("data/.kafka_cleanshutdown")),
                "Kafka marked a clean shutdown\n" + Files.readString(temp.resolve("stderr")));
        assertTrue(Files.isDirectory(dir.resolve("data/t-0")), "the topic's data is kept in --dir");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
