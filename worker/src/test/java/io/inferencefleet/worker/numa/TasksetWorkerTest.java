package io.inferencefleet.worker.numa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.worker.WorkerMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker JVM started under {@code taskset -c 0} on this machine's real topology (one node, CPUs
 * 0-1 here) plans one predictor and keeps every thread of the process on CPU 0. Before, it pinned
 * itself to the whole node's cpulist from /sys: {@code sched_setaffinity} may widen a mask within the
 * cpuset, so the worker escaped taskset and planned a predictor per node CPU.
 */
class TasksetWorkerTest {
    /** Forked JVM: args = model dir, shm dir. Prints "TASK tid name cpus=LIST" for every task of the process. */
    public static void main(String[] args) throws Exception {
        WorkerMain.startWorkers(null, Map.of(), Map.of("worker.id", "taskset", "bootstrap.servers", "127.0.0.1:1",
                "model.dir", args[0], "shm.dir", args[1], "metrics.port", "0"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && !(names().contains("predictor-0") && names().contains("decoder-0"))) {
            Thread.sleep(50);
        }
        Thread.sleep(500);  // let the predictor finish cloning (Paddle's threads start then)
        for (Path task : tasks()) {
            String cpus = cpus(task);
            if (!cpus.equals("?")) {  // "?": the thread ended meanwhile
                System.out.println("TASK " + task.getFileName() + " " + comm(task) + " cpus=" + cpus);
            }
        }
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    @Test
    void underTasksetTheWorkerPlansOnePredictorAndEveryThreadStaysOnTheAllowedCpu(@TempDir Path temp) throws Exception {
        Path taskset = Path.of("/usr/bin/taskset");
        assertTrue(Files.isExecutable(taskset), "this test needs util-linux's taskset at " + taskset);
        Path model = Files.createDirectories(temp.resolve("tiny"));
        BuiltinModels.generate("tiny", model, 1);
        List<String> command = new ArrayList<>(List.of(taskset.toString(), "-c", "0",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), TasksetWorkerTest.class.getName(),
                model.toString(), temp.resolve("shm").toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        List<String> tasks = output.lines().filter(l -> l.startsWith("TASK ")).toList();
        String all = String.join("\n", tasks);
        assertTrue(tasks.stream().anyMatch(t -> t.contains(" predictor-0 ")), all);
        assertTrue(tasks.stream().noneMatch(t -> t.contains(" predictor-1 ")), "more than one predictor:\n" + all);
        assertTrue(tasks.stream().noneMatch(t -> t.contains(" decoder-1 ")), "more than one decoder:\n" + all);
        assertTrue(output.contains("allowed cpus = 0, "), output);
        for (String task : tasks) {
            assertTrue(task.endsWith(" cpus=0"), "escaped CPU 0: " + task + "\n" + all);
        }
    }

    private static List<Path> tasks() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/task"))) {
            return s.sorted().toList();
        }
    }

    private static List<String> names() throws Exception {
        return tasks().stream().map(TasksetWorkerTest::comm).toList();
    }

    private static String comm(Path task) {
        try {
            return Files.readString(task.resolve("comm")).trim();
        } catch (Exception e) {
            return "?";  // the thread ended
        }
    }

    private static String cpus(Path task) {
        try {
            return Files.readAllLines(task.resolve("status")).stream().filter(l -> l.startsWith("Cpus_allowed_list:"))
                    .map(l -> l.substring("Cpus_allowed_list:".length()).trim()).findFirst().orElse("?");
        } catch (Exception e) {
            return "?";
        }
    }
}
