package io.inferencefleet.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three-node cluster for real: every node its own JVM, topics of three replicas that need two in
 * sync, the chosen node leading every partition; a SIGKILL of the leader moves leadership to a
 * follower, writes with {@code acks=all} go on with two nodes, and a restarted node rejoins on its
 * directory.
 */
@Tag("slow")
@Timeout(240)
class LocalKafkaClusterTest {
    @TempDir
    Path temp;

    @Test
    void aKilledLeaderIsReplacedAndRejoinsAfterARestart() throws Exception {
        long closeNs;
        List<Long> pids;
        try (LocalKafkaCluster cluster = LocalKafkaCluster.start(temp, 3, List.of("-Xmx384m"), Duration.ofMinutes(2))) {
            assertEquals(3, cluster.bootstrapServers().split(",").length);
            cluster.createTopic("t", 2, 2, Map.of());
            assertEquals(2, cluster.leader("t", 0));
            assertEquals(2, cluster.leader("t", 1));
            assertEquals(List.of(1, 2, 3), cluster.inSyncReplicas("t", 0));
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
                ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "t");
                Config config = admin.describeConfigs(List.of(topic)).all().get().get(topic);
                assertEquals("2", config.get("min.insync.replicas").value());
                ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
                assertEquals("3", admin.describeConfigs(List.of(broker)).all().get().get(broker)
                        .get("offsets.topic.replication.factor").value());
            }
            long pid = cluster.pid(2);
            assertTrue(pid > 0);
            assertTrue(Files.readString(cluster.nodeDirectory(2).resolve("node.log")).contains(ClusterNode.READY + "2"));

            long killNs = System.nanoTime();
            cluster.kill(2);
            assertEquals(-1, cluster.pid(2));
            assertTrue(ProcessHandle.of(pid).isEmpty() || !ProcessHandle.of(pid).get().isAlive());
            int leader = awaitLeaderOtherThan(cluster, 2);
            System.out.printf("cluster: new leaders (t-0: node %d) %.1f s after the SIGKILL of node 2%n", leader,
                    (System.nanoTime() - killNs) / 1e9);
            assertEquals(List.of(1, 3).contains(leader), true, "leader " + leader);
            try (KafkaProducer<String, String> producer = producer(cluster)) {
                producer.send(new ProducerRecord<>("t", 0, "k", "with two of three")).get();
            }

            long restartNs = System.nanoTime();
            cluster.restart(2, Duration.ofMinutes(1));
            System.out.printf("cluster: node 2 serving again %.1f s after its restart%n", (System.nanoTime() - restartNs) / 1e9);
            assertNotEquals(pid, cluster.pid(2));
            assertThrows(IllegalStateException.class, () -> cluster.restart(2, Duration.ofSeconds(5)));
            awaitInSync(cluster, List.of(1, 2, 3));
            pids = List.of(cluster.pid(1), cluster.pid(2), cluster.pid(3));
            closeNs = System.nanoTime();
        }
        System.out.printf("cluster: closed in %.1f s%n", (System.nanoTime() - closeNs) / 1e9);
        for (long p : pids) {
            assertTrue(ProcessHandle.of(p).map(h -> !h.isAlive()).orElse(true), "node pid " + p + " stopped by close");
        }
    }

    private static KafkaProducer<String, String> producer(LocalKafkaCluster cluster) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    private static int awaitLeaderOtherThan(LocalKafkaCluster cluster, int old) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                int leader = cluster.leader("t", 0);
                int other = cluster.leader("t", 1);
                if (leader != old && leader > 0 && other != old && other > 0) {
                    return leader;
                }
            } catch (ExecutionException e) {
                System.out.println("cluster: leader not known yet: " + e.getCause());  // the metadata is moving
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no new leader within 60 s");
    }

    private static void awaitInSync(LocalKafkaCluster cluster, List<Integer> expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!cluster.inSyncReplicas("t", 0).equals(expected) || !cluster.inSyncReplicas("t", 1).equals(expected)) {
            assertTrue(System.nanoTime() < deadline, "in sync: " + cluster.inSyncReplicas("t", 0));
            Thread.sleep(200);
        }
    }
}
