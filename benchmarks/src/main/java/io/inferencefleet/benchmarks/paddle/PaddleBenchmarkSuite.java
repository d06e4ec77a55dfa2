package io.inferencefleet.benchmarks.paddle;

import io.inferencefleet.paddle.JniCallBenchmark;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs the native-layer benchmarks of the Paddle binding and prints one table.
 *
 * <p>These VMs are noisy, so the configurations that are compared with each other (1 vs 2 math
 * threads, 2 clones) run interleaved, A B C A B C ..., one JMH fork each, and the table reports the
 * median over rounds with every round's value beside it. Usage (from the repository root):
 * {@code benchmarks/run-paddle-benchmarks.sh [rounds]}.
 */
public final class PaddleBenchmarkSuite {
    /** Paddle's own executor and its ONNX Runtime backend, interleaved within every round. */
    private static final List<String> ENGINES = List.of("paddle", "onnxruntime");
    private static final String LATENCY_1 = "batch-1 latency p50, 1 math thread (ms)";
    private static final String LATENCY_2 = "batch-1 latency p50, 2 math threads (ms)";
    private static final String CLONES = "2 clones x 1 math thread on 2 pinned threads (img/s)";

    private PaddleBenchmarkSuite() {}

    private static String key(String engine, String measure) {
        return "resnet50 " + engine + ": " + measure;
    }

    public static void main(String[] args) throws RunnerException, IOException, InterruptedException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        BenchModels.ensure("resnet50");  // generate once, before any fork needs it
        String modelDirFlag = "-D" + BenchModels.MODEL_DIR_PROPERTY + "=" + BenchModels.modelRoot();

        Map<String, List<Double>> figures = new LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            System.out.printf("round %d/%d%n", round, rounds);
            for (String engine : ENGINES) {
                RunResult one = run(jmh(modelDirFlag, "ResNet50Benchmarks.latencyBatch1").param("mathThreads", "1")
                        .param("engine", engine));
                add(figures, key(engine, LATENCY_1), percentile(one, 50));
                RunResult two = run(jmh(modelDirFlag, "ResNet50Benchmarks.latencyBatch1").param("mathThreads", "2")
                        .param("engine", engine));
                add(figures, key(engine, LATENCY_2), percentile(two, 50));
                RunResult clones = run(jmh(modelDirFlag, "ResNet50Benchmarks.twoClonesThroughput").param("engine", engine));
                add(figures, key(engine, CLONES), clones.getPrimaryResult().getScore());
                add(figures, key(engine, "1 predictor x 1 math thread (img/s, from p50)"), 1000.0 / percentile(one, 50));
            }
        }
        RunResult jni = run(jmh(modelDirFlag, JniCallBenchmark.class.getSimpleName() + ".emptyJniCall"));
        add(figures, "empty JNI call (ns)", jni.getPrimaryResult().getScore());
        for (String engine : ENGINES) {
            RunResult load = run(jmh(modelDirFlag, "ResNet50Benchmarks.modelLoad").param("engine", engine));
            add(figures, key(engine, "model load incl. Java validation (ms, mean of 10)"), load.getPrimaryResult().getScore());
        }

        String table = table(figures, rounds);
        String memory = cloneMemory(modelDirFlag);
        String report = "# Paddle binding benchmarks, " + LocalDate.now() + "\n\n"
                + "Machine: " + Runtime.getRuntime().availableProcessors() + " CPUs, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ". CPU: "
                + io.inferencefleet.benchmarks.report.Machine.describe("run-paddle-benchmarks.sh " + rounds).get("CPU")
                + "\n\n"
                + table + "\nResident memory (CloneMemory, own JVM):\n\n```\n" + memory + "```\n";
        System.out.println();
        System.out.println(report);
        Path out = Path.of("benchmarks/results/paddle-binding-" + LocalDate.now() + ".md");
        if (Files.isDirectory(out.getParent())) {
            Files.writeString(out, report, StandardCharsets.UTF_8);
            System.out.println("written to " + out);
        }
    }

    private static ChainedOptionsBuilder jmh(String modelDirFlag, String benchmark) {
        return new OptionsBuilder()
                .include("\\." + benchmark.replace(".", "\\.") + "$")
                .forks(1)
                .jvmArgsAppend(modelDirFlag)
                .verbosity(VerboseMode.SILENT);
    }

    private static RunResult run(ChainedOptionsBuilder options) throws RunnerException {
        return new Runner(options.build()).runSingle();
    }

    private static double percentile(RunResult result, double p) {
        return result.getPrimaryResult().getStatistics().getPercentile(p);
    }

    private static void add(Map<String, List<Double>> figures, String name, double value) {
        figures.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }

    private static String table(Map<String, List<Double>> figures, int rounds) {
        StringBuilder sb = new StringBuilder("| measure | median | rounds |\n|---|---:|---|\n");
        for (Map.Entry<String, List<Double>> e : figures.entrySet()) {
            double[] values = e.getValue().stream().mapToDouble(Double::doubleValue).toArray();
            sb.append("| ").append(e.getKey()).append(" | ").append(format(median(values))).append(" | ");
            sb.append(Arrays.stream(values).mapToObj(PaddleBenchmarkSuite::format)
                    .reduce((a, b) -> a + ", " + b).orElse("")).append(" |\n");
        }
        sb.append("\nRatios (medians, ").append(rounds).append(" interleaved rounds):\n");
        for (String engine : ENGINES) {
            double oneThread = median(values(figures, key(engine, LATENCY_1)));
            double twoThreads = median(values(figures, key(engine, LATENCY_2)));
            double clones = median(values(figures, key(engine, CLONES)));
            sb.append("- ").append(engine).append(": latency 2 threads / 1 thread = ").append(format(twoThreads / oneThread))
                    .append("; throughput 2 clones / 1 predictor = ").append(format(clones * oneThread / 1000.0)).append('\n');
        }
        double paddle = median(values(figures, key("paddle", CLONES)));
        double ort = median(values(figures, key("onnxruntime", CLONES)));
        sb.append("- 2 clones, onnxruntime / paddle = ").append(format(ort / paddle)).append('\n');
        return sb.toString();
    }

    private static double[] values(Map<String, List<Double>> figures, String key) {
        return figures.get(key).stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String format(double v) {
        return v >= 100 ? String.format("%.0f", v) : String.format("%.2f", v);
    }

    /** Runs {@link CloneMemory} in a fresh JVM with this JVM's flags and returns its output. */
    private static String cloneMemory(String modelDirFlag) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add(modelDirFlag);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(CloneMemory.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        return output.lines().filter(l -> l.startsWith("rss ")).reduce("", (a, b) -> a + b + "\n");
    }
}
