package io.inferencefleet.worker.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerConfigTest {
    @TempDir
    Path temp;

    @Test
    void defaultsWork() {
        WorkerConfig config = WorkerConfig.resolve(null, Map.of(), Map.of());
        assertEquals("localhost:9092", config.get(WorkerConfig.BOOTSTRAP_SERVERS));
        assertEquals(32, config.get(WorkerConfig.MAX_IN_FLIGHT));
        assertEquals("images.DLT", config.deadLetterTopic());
        assertTrue(config.shmDir().startsWith("/dev/shm/inference-fleet"));
    }

    @Test
    void flagsBeatEnvironmentWhichBeatsTheFile() throws Exception {
        Path file = temp.resolve("worker.properties");
        Files.writeString(file, "input.topic=from-file\nresults.topic=from-file\ngroup.id=from-file\n");
        WorkerConfig config = WorkerConfig.resolve(file,
                Map.of("FLEET_RESULTS_TOPIC", "from-env", "FLEET_GROUP_ID", "from-env"),
                Map.of("group.id", "from-flag"));
        assertEquals("from-file", config.get(WorkerConfig.INPUT_TOPIC));
        assertEquals("from-env", config.get(WorkerConfig.RESULTS_TOPIC));
        assertEquals("from-flag", config.get(WorkerConfig.GROUP_ID));
        assertTrue(config.describe().contains("group.id = from-flag  (flag --group.id)"), config.describe());
    }

    @Test
    void errorsNameTheKeyTheValueAndWhereItCameFrom() {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of("FLEET_PREDICTOR_THREADS", "many"), Map.of()));
        assertEquals("Invalid value 'many' for predictor.threads (from env FLEET_PREDICTOR_THREADS): "
                + "must be auto or an integer in [1, 256]", bad.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), Map.of("predictor.thread", "2")));
        assertTrue(unknown.getMessage().startsWith("Unknown configuration key 'predictor.thread'"), unknown.getMessage());
        IllegalArgumentException together = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), Map.of("max.in.flight", "4", "resume.in.flight", "4")));
        assertTrue(together.getMessage().contains("resume.in.flight"), together.getMessage());
        IllegalArgumentException decoders = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), Map.of("predictor.threads", "3", "decoder.threads", "2")));
        assertTrue(decoders.getMessage().startsWith("Invalid value 2 for decoder.threads"), decoders.getMessage());
        assertEquals(3, WorkerConfig.resolve(null, Map.of(), Map.of("predictor.threads", "3")).threadPlan().decoders());
    }

    @Test
    void autoThreadsGiveEachWorkerOneSingleThreadedPredictorPerCpuOfItsShareOfTheNode() {
        // A machine of 8 CPUs, all allowed (numa.allowed.cpus: this test must not depend on the machine it runs on).
        Map<String, String> fourCpus = Map.of("numa.topology", "0:0-3;1:4-7", "numa.allowed.cpus", "0-7", "numa.node", "1");
        ThreadPlan alone = WorkerConfig.resolve(null, Map.of(), fourCpus).threadPlan();
        assertEquals(new ThreadPlan(4, 1, 4, ThreadPlan.Pinning.NODE), alone);

        Map<String, String> shared = new java.util.HashMap<>(fourCpus);
        shared.put("workers.per.node", "2");
        assertEquals(new ThreadPlan(2, 1, 2, ThreadPlan.Pinning.NODE), WorkerConfig.resolve(null, Map.of(), shared).threadPlan());
        shared.put("workers.per.node", "8");  // more workers than CPUs: still one predictor each
        assertEquals(1, WorkerConfig.resolve(null, Map.of(), shared).threadPlan().predictors());

        Map<String, String> explicit = new java.util.HashMap<>(fourCpus);
        explicit.put("math.threads", "2");
        explicit.put("decoder.threads", "6");
        explicit.put("predictor.pinning", "cpu");
        assertEquals(new ThreadPlan(4, 2, 6, ThreadPlan.Pinning.CPU),
                WorkerConfig.resolve(null, Map.of(), explicit).threadPlan());

        IllegalArgumentException tooFewDecoders = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), Map.of("numa.topology", "0:0-3", "numa.allowed.cpus", "0-3",
                        "decoder.threads", "2")));
        assertEquals("Invalid value 2 for decoder.threads: must be 0 or at least predictor.threads (4, auto)",
                tooFewDecoders.getMessage());
        IllegalArgumentException pinningWithoutNode = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), Map.of("predictor.pinning", "cpu", "numa.pin", "false")));
        assertTrue(pinningWithoutNode.getMessage().startsWith("Invalid value cpu for predictor.pinning"),
                pinningWithoutNode.getMessage());
        IllegalArgumentException badPinning = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), Map.of("predictor.pinning", "core")));
        assertEquals("Invalid value 'core' for predictor.pinning (from flag --predictor.pinning): must be one of node, cpu",
                badPinning.getMessage());
    }

    @Test
    void kafkaSettingsPassThroughToTheRightClientAndSecretsAreHiddenInTheLog() {
        WorkerConfig config = WorkerConfig.resolve(null, Map.of(), Map.of(
                "kafka.security.protocol", "SASL_SSL",
                "kafka.sasl.jaas.config", "secret stuff",
                "kafka.consumer.session.timeout.ms", "6000",
                "kafka.producer.linger.ms", "5"));
        assertEquals("SASL_SSL", config.kafkaConsumer().get("security.protocol"));
        assertEquals("SASL_SSL", config.kafkaProducer().get("security.protocol"));
        assertEquals("6000", config.kafkaConsumer().get("session.timeout.ms"));
        assertTrue(!config.kafkaProducer().containsKey("session.timeout.ms"));
        assertEquals("5", config.kafkaProducer().get("linger.ms"));
        assertTrue(config.describe().contains("kafka.sasl.jaas.config = [hidden]"), config.describe());
    }

    @Test
    void threadsAndPinningUseOnlyTheCpusOfTheNodeThisProcessMayRunOn() {
        // Two nodes of four CPUs; the process may run on 2-5 (taskset, or a Kubernetes cpuset across both nodes).
        Map<String, String> flags = new java.util.HashMap<>(Map.of("numa.topology", "0:0-3;1:4-7",
                "numa.allowed.cpus", "2-5", "numa.node", "1"));
        WorkerConfig onNodeOne = WorkerConfig.resolve(null, Map.of(), flags);
        assertEquals(java.util.BitSet.valueOf(new long[] {0b110000}), onNodeOne.pinnedCpus());
        assertEquals(new ThreadPlan(2, 1, 2, ThreadPlan.Pinning.NODE), onNodeOne.threadPlan());
        flags.put("numa.node", "-1");
        assertEquals("0:2,3;1:4,5", WorkerConfig.resolve(null, Map.of(), flags).topology().toString());
    }

    @Test
    void aNodeWithoutAllowedCpusIsSkippedAtItsDefaultAndAnErrorWhenAskedForByName() {
        Map<String, String> cpusetOnNodeOne = Map.of("numa.topology", "0:0-3;1:4-7", "numa.allowed.cpus", "4-5");
        WorkerConfig byDefault = WorkerConfig.resolve(null, Map.of(), cpusetOnNodeOne);
        assertEquals(1, byDefault.numaNode());
        assertEquals(java.util.BitSet.valueOf(new long[] {0b110000}), byDefault.pinnedCpus());
        assertEquals(2, byDefault.threadPlan().predictors());

        Map<String, String> explicit = new java.util.HashMap<>(cpusetOnNodeOne);
        explicit.put("numa.node", "0");
        IllegalArgumentException named = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), explicit));
        assertEquals("Invalid value 0 for numa.node: none of node 0's CPUs (0-3) is among the CPUs this process may run"
                + " on (4-5, from numa.allowed.cpus)", named.getMessage());

        explicit.put("numa.node", "-1");
        WorkerConfig every = WorkerConfig.resolve(null, Map.of(), explicit);
        assertEquals(java.util.Set.of(1), every.topology().nodes().keySet());
        assertEquals(java.util.Set.of(0), every.nodesWithoutAllowedCpus());

        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> WorkerConfig.resolve(null,
                Map.of(), Map.of("numa.topology", "0:0-3", "numa.allowed.cpus", "9")));
        assertEquals("None of this machine's NUMA nodes (0:0,1,2,3) has a CPU this process may run on (allowed: 9)",
                none.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), Map.of("numa.allowed.cpus", "3-1")));
        assertTrue(bad.getMessage().startsWith("Invalid value '3-1' for numa.allowed.cpus"), bad.getMessage());
    }

    @Test
    void withoutAnOverrideTheAllowedCpusAreThisProcesssAffinity() {
        WorkerConfig config = WorkerConfig.resolve(null, Map.of(), Map.of());
        assertEquals(io.inferencefleet.worker.numa.AllowedCpus.ofThisProcess(), config.allowedCpus());
        assertTrue(config.allowedCpus().cardinality() >= 1);
    }
}
