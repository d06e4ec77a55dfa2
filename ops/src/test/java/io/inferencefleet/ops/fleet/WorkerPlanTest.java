package io.inferencefleet.ops.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.worker.config.KeyValueArgs;
import io.inferencefleet.worker.config.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerPlanTest {
    @TempDir
    Path temp;

    private static WorkerConfig config(Map<String, String> env, Map<String, String> flags) {
        return WorkerConfig.resolve(null, env, flags);
    }

    @Test
    void plansPerNodeWorkersUnderTasksetWithPerWorkerKeysOnTheCommandLineAndTheRestInTheArgsFile() {
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put("numa.topology", "0:0-3,8;1:4-7");
        flags.put("numa.allowed.cpus", "0-8");  // every CPU of that machine, whatever this one allows
        flags.put("bootstrap.servers", "kafka:9092");
        flags.put("group.id", "g");
        flags.put("metrics.port", "9500");
        flags.put("shm.dir", "/dev/shm/x");
        List<WorkerPlan.Planned> plan = WorkerPlan.plan(config(Map.of(), flags), null, 2, "h",
                Path.of("/jdk/bin/java"), Path.of("/repo/jvm.options"), "cp.jar", Path.of("/usr/bin/taskset"), Path.of("/run"));

        assertEquals(List.of("h-n0-w0", "h-n0-w1", "h-n1-w0", "h-n1-w1"), plan.stream().map(WorkerPlan.Planned::id).toList());
        assertEquals(List.of(9500, 9501, 9502, 9503), plan.stream().map(WorkerPlan.Planned::metricsPort).toList());
        WorkerPlan.Planned third = plan.get(2);
        assertEquals("4-7", third.cpus());
        assertEquals(Path.of("/run/h-n1-w0.log"), third.log());
        assertEquals(List.of("/usr/bin/taskset", "-c", "4-7", "/jdk/bin/java", "@/repo/jvm.options", "-cp", "cp.jar",
                "io.inferencefleet.worker.WorkerMain", "--args-file=/run/worker-args.properties", "--numa.node=1",
                "--workers.per.node=2", "--worker.id=h-n1-w0", "--metrics.port=9502", "--shm.dir=/dev/shm/x/h-n1-w0"),
                third.command());
        assertEquals("0-3,8", plan.get(0).cpus());
    }

    @Test
    void theMetricsPortComesFromTheResolvedConfigurationNotTheRawFlags() {
        // Before: fleet up read --metrics.port from its own flags with a literal 9400 default, so the
        // environment was ignored and metrics.port=0 gave the second worker port 1.
        List<WorkerPlan.Planned> fromEnv = WorkerPlan.plan(config(Map.of("FLEET_METRICS_PORT", "9700"),
                Map.of("numa.topology", "0:0;1:1")), null, 1, "h", Path.of("java"), Path.of("/j.options"), "cp", null,
                Path.of("run"));
        assertEquals(List.of(9700, 9701), fromEnv.stream().map(WorkerPlan.Planned::metricsPort).toList());
        List<WorkerPlan.Planned> free = WorkerPlan.plan(config(Map.of(), Map.of("metrics.port", "0",
                "numa.topology", "0:0;1:1")), null, 1, "h", Path.of("java"), Path.of("/j.options"), "cp", null,
                Path.of("run"));
        assertEquals(List.of(0, 0), free.stream().map(WorkerPlan.Planned::metricsPort).toList());
    }

    @Test
    void withoutTasksetTheJvmIsTheCommand() {
        WorkerPlan.Planned only = WorkerPlan.plan(config(Map.of(), Map.of("numa.topology", "0:0")), null, 1, "h",
                Path.of("java"), Path.of("/j.options"), "cp", null, Path.of("run")).get(0);
        assertEquals("java", only.command().get(0));
        assertEquals(9400, only.metricsPort());
        assertTrue(only.command().contains("--numa.node=0"));
    }

    @Test
    void secretsNeverReachTheCommandLineTheArgsFileIsOwnerOnlyAndTheWorkerReadsItBack() throws Exception {
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put("numa.topology", "0:0");
        flags.put("kafka.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"u\" password=\"hunter2\";");
        flags.put("worker.id", "ignored");
        Path args = WorkerPlan.writeArgsFile(temp, WorkerPlan.passThrough(flags));
        WorkerPlan.Planned only = WorkerPlan.plan(config(Map.of(), flags), null, 1, "h", Path.of("java"),
                Path.of("/j.options"), "cp", null, temp).get(0);

        assertFalse(String.join(" ", only.command()).contains("hunter2"), only.command().toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(args)));
        List<String> workerArgs = only.command().subList(only.command().indexOf("io.inferencefleet.worker.WorkerMain") + 1,
                only.command().size());
        Map<String, String> parsed = KeyValueArgs.parse(workerArgs);
        assertEquals(flags.get("kafka.sasl.jaas.config"), parsed.get("kafka.sasl.jaas.config"));
        assertEquals("h-n0-w0", parsed.get("worker.id"));
    }

    @Test
    void workersArePlannedOnlyOnTheAllowedCpusOfEachNodeAndANodeWithoutAnyGetsNone() {
        // fleet up started under taskset -c 1-2,8 (or in a cpuset) on a two-node machine: node 1 has none of them.
        Map<String, String> flags = Map.of("numa.topology", "0:0-3,8;1:4-7", "numa.allowed.cpus", "1-2,8");
        WorkerConfig config = config(Map.of(), flags);
        List<WorkerPlan.Planned> plan = WorkerPlan.plan(config, null, 2, "h", Path.of("java"), Path.of("/j.options"),
                "cp", Path.of("/usr/bin/taskset"), Path.of("run"));
        assertEquals(List.of("h-n0-w0", "h-n0-w1"), plan.stream().map(WorkerPlan.Planned::id).toList());
        assertEquals(List.of("/usr/bin/taskset", "-c", "1-2,8"), plan.get(0).command().subList(0, 3));
        assertEquals(java.util.Set.of(1), config.nodesWithoutAllowedCpus());

        List<WorkerPlan.Planned> onNodeOne = WorkerPlan.plan(config(Map.of(), Map.of("numa.topology", "0:0-3,8;1:4-7",
                "numa.allowed.cpus", "5")), null, 1, "h", Path.of("java"), Path.of("/j.options"), "cp", null, Path.of("run"));
        assertEquals(1, onNodeOne.size());
        assertEquals(1, onNodeOne.get(0).node());
        assertEquals("5", onNodeOne.get(0).cpus());
    }
}
