package io.inferencefleet.worker.numa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.worker.WorkerMain;
import io.inferencefleet.worker.config.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On an injected two-node topology (node 0 = CPU 0, node 1 = CPU 1), a worker serving node 1 keeps
 * every thread it starts on CPU 1: intake, decoders, predictors, Kafka's client threads and Paddle's
 * math threads (checked through /proc/self/task/*). Runs in a forked JVM because pinning is
 * inherited by every later thread of the process.
 */
class WorkerPinningTest {
    /**
     * Threads the JVM itself adds on demand, not started by the worker's threads. ("process reaper"
     * is the JDK's waiter for child processes; a library started one while the start-up thread was
     * being pinned.)
     */
    private static final List<String> JVM_THREADS = List.of("C1 CompilerThre", "C2 CompilerThre", "GC Thread",
            "G1 ", "VM Periodic", "Attach Listener", "Notification Th", "Common-Cleaner", "process reaper");

    /** Forked JVM: args = model dir, shm dir, numa.node[, topology, predictor.pinning]. Prints "TASK tid name cpus" for every new task. */
    public static void main(String[] args) throws Exception {
        Set<String> before = tasks();
        Map<String, String> flags = new HashMap<>();
        flags.put("worker.id", "pin");
        flags.put("bootstrap.servers", "127.0.0.1:1");  // never reached: pinning happens at start
        flags.put("model.dir", args[0]);
        flags.put("shm.dir", args[1]);
        flags.put("predictor.threads", "2");
        flags.put("math.threads", "2");
        flags.put("numa.topology", args.length > 3 ? args[3] : "0:0;1:1");
        flags.put("numa.node", args[2]);
        if (args.length > 4) {
            flags.put("predictor.pinning", args[4]);
        }
        flags.put("metrics.port", "0");
        WorkerMain.startWorkers(null, Map.of(), flags);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && !names(tasks()).containsAll(List.of("predictor-0", "predictor-1", "decoder-1"))) {
            Thread.sleep(50);
        }
        Thread.sleep(500);  // let the predictors finish cloning
        for (String tid : tasks()) {
            if (!before.contains(tid)) {
                System.out.println("TASK " + tid + " " + name(tid) + " cpus=" + cpus(tid));
            }
        }
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    @Test
    void everyThreadTheWorkerStartsStaysOnItsNodesCpus(@TempDir Path temp) throws Exception {
        List<String> tasks = runForked(temp, "1");
        List<String> ours = tasks.stream().filter(t -> JVM_THREADS.stream().noneMatch(t::contains)).toList();
        for (String task : ours) {
            assertTrue(task.endsWith("cpus=1"), "escaped node 1: " + task + "\n" + String.join("\n", tasks));
        }
        String names = String.join("\n", ours);
        for (String role : List.of(" intake ", " decoder-0 ", " decoder-1 ", " predictor-0 ", " predictor-1 ", " kafka-producer-")) {
            assertTrue(names.contains(role), "no " + role.trim() + " thread among:\n" + names);
        }
        // Linux names a new thread after its creator: Paddle's OpenBLAS threads carry the name of
        // the pinned start-up thread ("java", it created the original predictor) or a predictor's.
        long paddleThreads = ours.stream().filter(t -> t.contains(" java ") || t.matches(".* predictor-\\d .*")).count() - 2;
        assertTrue(paddleThreads >= 1, "no Paddle math thread among:\n" + names);
    }

    @Test
    void servingEveryNodeRunsOnePipelinePerNodeOnItsCpus(@TempDir Path temp) throws Exception {
        List<String> tasks = runForked(temp, "-1");
        for (String cpu : List.of("0", "1")) {
            for (String role : List.of(" intake ", " decoder-0 ", " decoder-1 ", " predictor-0 ", " predictor-1 ")) {
                assertTrue(tasks.stream().anyMatch(t -> t.contains(role) && t.endsWith("cpus=" + cpu)),
                        "no" + role + "thread on node CPU " + cpu + ":\n" + String.join("\n", tasks));
            }
        }
    }

    @Test
    void cpuPinningPutsEachPredictorAndItsMathThreadsOnItsOwnCpu(@TempDir Path temp) throws Exception {
        List<String> tasks = runForked(temp, "0", "0:0-1", "cpu");
        String all = String.join("\n", tasks);
        assertTrue(tasks.stream().anyMatch(t -> t.contains(" predictor-0 ") && t.endsWith("cpus=0")), all);
        assertTrue(tasks.stream().anyMatch(t -> t.contains(" predictor-1 ") && t.endsWith("cpus=1")), all);
        // the rest of the worker keeps the whole node
        assertTrue(tasks.stream().anyMatch(t -> t.contains(" intake ") && t.endsWith("cpus=0-1")), all);
        assertTrue(tasks.stream().anyMatch(t -> t.contains(" decoder-1 ") && t.endsWith("cpus=0-1")), all);
    }

    private static List<String> runForked(Path temp, String... workerArgs) throws Exception {
        Path model = Files.createDirectories(temp.resolve("tiny"));
        BuiltinModels.generate("tiny", model, 1);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), WorkerPinningTest.class.getName(),
                model.toString(), temp.resolve("shm").toString()));
        command.addAll(List.of(workerArgs));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        return output.lines().filter(l -> l.startsWith("TASK ")).toList();
    }

    private static Set<String> tasks() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/task"))) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private static Set<String> names(Set<String> tids) {
        return tids.stream().map(WorkerPinningTest::name).collect(Collectors.toSet());
    }

    private static String name(String tid) {
        try {
            return Files.readString(Path.of("/proc/self/task", tid, "comm")).trim();
        } catch (Exception e) {
            return "?";
        }
    }

    private static String cpus(String tid) {
        try {
            return Files.readAllLines(Path.of("/proc/self/task", tid, "status")).stream()
                    .filter(l -> l.startsWith("Cpus_allowed_list:")).map(l -> l.substring(18).trim()).findFirst().orElse("?");
        } catch (Exception e) {
            return "?";
        }
    }
}
