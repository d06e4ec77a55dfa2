package io.inferencefleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.kafka.local.LocalKafkaCluster;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.testing.SharedImages;
import io.inferencefleet.worker.config.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover on a replicated cluster (issue 14): three KRaft nodes, each its own JVM, topics of three
 * replicas needing two in sync, one node leading every input and results partition. While a client
 * publishes steadily, that node is SIGKILLed and, a few seconds later, started again on its
 * directory. Every acknowledged request must be answered (at least once: duplicates are counted and
 * printed, not failed), and the worker must still be ready afterwards. Prints how long the fleet took
 * to recover.
 */
@Tag("slow")
class WorkerFailoverTest {
    private static final int VICTIM = 1;
    private static final double RATE = 20;
    private static final Map<String, String> REPLICATED = Map.of("min.insync.replicas", "2");

    @TempDir
    Path temp;

    @Test
    void killingTheLeaderOfTheInputAndResultsPartitionsLosesNoRequest() throws Exception {
        Path model = temp.resolve("tiny");
        BuiltinModels.generate("tiny", Files.createDirectories(model), 1);
        Path images = SharedImages.dir();
        List<Path> photos;
        try (Stream<Path> files = Files.list(images)) {
            photos = files.sorted().toList();
        }
        List<String> nodeJvm = List.of("@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath(),
                "-Xms64m", "-Xmx512m");
        try (LocalKafkaCluster cluster = LocalKafkaCluster.start(temp.resolve("kafka"), 3, nodeJvm, Duration.ofMinutes(2))) {
            cluster.createTopic("images", 2, VICTIM, REPLICATED);
            // LogAppendTime: a result's timestamp is when a leader wrote it, which is what recovery is about.
            cluster.createTopic("predictions", 1, VICTIM, Map.of("min.insync.replicas", "2",
                    "message.timestamp.type", "LogAppendTime"));
            for (String[] tp : new String[][] {{"images", "0"}, {"images", "1"}, {"predictions", "0"}}) {
                assertEquals(VICTIM, cluster.leader(tp[0], Integer.parseInt(tp[1])), "leader of " + tp[0] + "-" + tp[1]);
                assertEquals(List.of(1, 2, 3), cluster.inSyncReplicas(tp[0], Integer.parseInt(tp[1])));
            }
            Map<String, String> flags = WorkerFlags.of(cluster.bootstrapServers(), "images", "predictions", "failover",
                    model, images);
            flags.put("shm.dir", temp.resolve("shm").toString());
            flags.put("metrics.port", "0");
            flags.put("worker.id", "failover-worker");
            try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags));
                 AnswerLedger answers = new AnswerLedger(cluster.bootstrapServers(), "predictions", 1);
                 SteadyRequests requests = new SteadyRequests(cluster.bootstrapServers(), "images", "r", photos, RATE)) {
                await(answers, () -> answers.answered() >= 20, Duration.ofSeconds(60), "the first 20 answers");

                long killMs = System.currentTimeMillis();
                cluster.kill(VICTIM);
                await(answers, () -> leaderMovedOff(cluster), Duration.ofSeconds(60), "a new leader for every partition");
                long electedMs = System.currentTimeMillis();
                pause(answers, Duration.ofSeconds(5));
                cluster.restart(VICTIM, Duration.ofMinutes(1));
                long restartedMs = System.currentTimeMillis();
                pause(answers, Duration.ofSeconds(5));
                requests.stop();
                long stoppedMs = System.currentTimeMillis();

                await(answers, () -> requests.acked().stream().allMatch(answers::answered), Duration.ofSeconds(90),
                        "an answer to every acknowledged request");
                List<String> lost = requests.acked().stream().filter(id -> !answers.answered(id)).sorted().toList();
                long firstAfterKill = answers.firstResultAfter(killMs);
                // The backlog is what was published while the partitions had no leader.
                long drainedMs = requests.acked().stream().filter(id -> requests.sentAtMs(id) <= electedMs)
                        .mapToLong(answers::firstAtMs).max().orElse(-1);
                System.out.printf("failover: requests sent %d, acknowledged %d, answered %d, lost %d, duplicates %d;"
                        + " after the kill of node %d: new leaders after %.1f s, first result written after %.1f s,"
                        + " longest gap without a new answer %.1f s, every request sent before the new leaders answered"
                        + " %.1f s after the kill, node %d serving again %.1f s after the kill; publishing stopped %.1f s after"
                        + " the kill%n",
                        requests.sent(), requests.acked().size(), answers.answered(), lost.size(), answers.duplicates(),
                        VICTIM, (electedMs - killMs) / 1000.0, (firstAfterKill - killMs) / 1000.0,
                        answers.longestGapMs(killMs, stoppedMs) / 1000.0, (drainedMs - killMs) / 1000.0, VICTIM,
                        (restartedMs - killMs) / 1000.0, (stoppedMs - killMs) / 1000.0);

                assertNull(requests.firstFailure(), "every send acknowledged");
                assertEquals(requests.sent(), requests.acked().size(), "every request acknowledged");
                assertEquals(List.of(), lost, "requests acknowledged but never answered");
                assertTrue(firstAfterKill > 0, "results written after the kill");
                assertEquals("ready\n", http(worker.metricsPort(), "/ready"), "the worker is still ready");
                assertEquals("healthy\n", http(worker.metricsPort(), "/health"));
                await(answers, () -> inSyncAgain(cluster), Duration.ofSeconds(60), "the restarted node back in sync");
            }
        }
    }

    private static boolean leaderMovedOff(LocalKafkaCluster cluster) {
        try {
            for (String[] tp : new String[][] {{"images", "0"}, {"images", "1"}, {"predictions", "0"}}) {
                int leader = cluster.leader(tp[0], Integer.parseInt(tp[1]));
                if (leader == VICTIM || leader < 0) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            return false;  // the admin client may time out while the metadata moves
        }
    }

    private static boolean inSyncAgain(LocalKafkaCluster cluster) {
        try {
            return cluster.inSyncReplicas("images", 0).size() == 3 && cluster.inSyncReplicas("images", 1).size() == 3
                    && cluster.inSyncReplicas("predictions", 0).size() == 3;
        } catch (Exception e) {
            return false;
        }
    }

    /** Keeps reading answers until {@code done}, failing after {@code timeout}. */
    private static void await(AnswerLedger answers, BooleanSupplier done, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "no " + what + " within " + timeout + "; answered "
                    + answers.answered());
            answers.poll(Duration.ofMillis(200));
        }
    }

    private static void pause(AnswerLedger answers, Duration time) {
        long until = System.nanoTime() + time.toNanos();
        while (System.nanoTime() < until) {
            answers.poll(Duration.ofMillis(200));
        }
    }

    private static String http(int port, String path) throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        return client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }
}
