package io.inferencefleet.ops.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.worker.numa.NumaTopology;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerPlanTest {
    @Test
    void plansPerNodeWorkersUnderTasksetWithPassThroughAndPerWorkerKeys() {
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put("bootstrap.servers", "kafka:9092");
        flags.put("group.id", "g");
        flags.put("metrics.port", "9500");
        flags.put("worker.id", "ignored");
        flags.put("shm.dir", "/dev/shm/x");
        List<WorkerPlan.Planned> plan = WorkerPlan.plan(NumaTopology.parse("0:0-3,8;1:4-7"), 2, "h", flags,
                Path.of("/jdk/bin/java"), Path.of("/repo/jvm.options"), "cp.jar", Path.of("/usr/bin/taskset"), Path.of("/run"));

        assertEquals(List.of("h-n0-w0", "h-n0-w1", "h-n1-w0", "h-n1-w1"), plan.stream().map(WorkerPlan.Planned::id).toList());
        assertEquals(List.of(9500, 9501, 9502, 9503), plan.stream().map(WorkerPlan.Planned::metricsPort).toList());
        WorkerPlan.Planned third = plan.get(2);
        assertEquals("4-7", third.cpus());
        assertEquals(Path.of("/run/h-n1-w0.log"), third.log());
        assertEquals(List.of("/usr/bin/taskset", "-c", "4-7", "/jdk/bin/java", "@/repo/jvm.options", "-cp", "cp.jar",
                "io.inferencefleet.worker.WorkerMain", "--bootstrap.servers=kafka:9092", "--group.id=g", "--numa.node=1", "--workers.per.node=2",
                "--worker.id=h-n1-w0", "--metrics.port=9502", "--shm.dir=/dev/shm/x/h-n1-w0"), third.command());
        assertEquals("0-3,8", plan.get(0).cpus());
    }

    @Test
    void withoutTasksetTheJvmIsTheCommand() {
        WorkerPlan.Planned only = WorkerPlan.plan(NumaTopology.parse("0:0"), 1, "h", Map.of(), Path.of("java"),
                Path.of("/j.options"), "cp", null, Path.of("run")).get(0);
        assertEquals("java", only.command().get(0));
        assertEquals(9400, only.metricsPort());
        assertTrue(only.command().contains("--numa.node=0"));
    }
}
