package io.inferencefleet.benchmarks.report;

import io.inferencefleet.paddle.Predictor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.utils.AppInfoParser;

/** What a report must say about where and how it was measured, gathered once at the start of a run. */
public final class Machine {
    private Machine() {}

    /** Ordered name → value pairs: machine, software versions, source revision, command. */
    public static Map<String, String> describe(String command) {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        facts.put("command", command);
        facts.put("git revision", run("git", "describe", "--always", "--dirty", "--abbrev=12"));
        facts.put("host", run("hostname"));
        facts.put("CPU", cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs available to the JVM"
                + ", flags avx2=" + cpuFlag("avx2") + " avx512f=" + cpuFlag("avx512f"));
        facts.put("NUMA nodes", count("/sys/devices/system/node", "node"));
        facts.put("memory", memTotal());
        facts.put("kernel", run("uname", "-sr"));
        facts.put("load average at start", read("/proc/loadavg"));
        facts.put("JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        facts.put("Paddle Inference", Predictor.paddleVersion().replaceAll("\\s*\\n\\s*", ", "));
        facts.put("Kafka clients and broker", AppInfoParser.getVersion());
        nu.pattern.OpenCV.loadLocally();
        facts.put("OpenCV", org.opencv.core.Core.VERSION + " (org.openpnp:opencv)");
        facts.put("OpenBLAS settings", "OPENBLAS_CORETYPE=" + env("OPENBLAS_CORETYPE") + " OPENBLAS_NUM_THREADS="
                + env("OPENBLAS_NUM_THREADS") + " (set by our preload library in our processes, by the harness for the peer)");
        return facts;
    }

    private static String env(String name) {
        String value = System.getenv(name);
        return value == null ? "(unset in the harness)" : value;
    }

    private static String cpuModel() {
        return lines("/proc/cpuinfo").stream().filter(l -> l.startsWith("model name")).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    }

    private static boolean cpuFlag(String flag) {
        return lines("/proc/cpuinfo").stream().filter(l -> l.startsWith("flags")).findFirst()
                .map(l -> List.of(l.substring(l.indexOf(':') + 1).trim().split(" ")).contains(flag)).orElse(false);
    }

    private static String memTotal() {
        return lines("/proc/meminfo").stream().filter(l -> l.startsWith("MemTotal")).findFirst()
                .map(l -> String.format("%.1f GiB", Long.parseLong(l.replaceAll("\\D", "")) / 1024.0 / 1024.0)).orElse("unknown");
    }

    private static String count(String dir, String prefix) {
        try (var list = Files.list(Path.of(dir))) {
            return Long.toString(list.filter(p -> p.getFileName().toString().matches(prefix + "\\d+")).count());
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String read(String file) {
        return String.join(" ", lines(file)).trim();
    }

    private static String run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes()).trim();
            return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0 ? out : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
