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
import java.util.Set;
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
        Cpu cpu = Cpu.read();
        facts.put("CPU", cpu.toString());
        facts.put("float32 FMA peak per core", cpu.peakDescription());
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

    /**
     * The CPU as {@code /proc/cpuinfo} reports it (first processor): model, SIMD flags and clock, and the
     * float32 FMA peak they imply. The machines of this project change from one session to the next
     * (FACTS.md), so every report carries this and compares only figures of its own run.
     *
     * @param model "model name"
     * @param cpus CPUs available to the JVM
     * @param flags the "flags" line's words
     * @param mhz "cpu MHz": under KVM the nominal (TSC) clock, not what the core runs at under turbo; 0 if absent
     */
    record Cpu(String model, int cpus, Set<String> flags, double mhz) {
        /** The SIMD flags that decide the peak, in this order, when present. */
        static final List<String> SIMD_FLAGS = List.of("sse4_2", "avx", "fma", "avx2", "avx512f", "avx512_vnni", "avx512_bf16",
                "amx_tile");

        static Cpu read() {
            return parse(lines("/proc/cpuinfo"), Runtime.getRuntime().availableProcessors());
        }

        /** The first processor's fields of {@code /proc/cpuinfo} lines. */
        static Cpu parse(List<String> cpuinfo, int cpus) {
            return new Cpu(field(cpuinfo, "model name").orElse("unknown"), cpus,
                    Set.copyOf(List.of(field(cpuinfo, "flags").orElse("").split("\\s+"))),
                    field(cpuinfo, "cpu MHz").map(Double::parseDouble).orElse(0.0));
        }

        private static java.util.Optional<String> field(List<String> lines, String name) {
            return lines.stream().filter(l -> l.startsWith(name) && l.indexOf(':') > 0
                            && l.substring(0, l.indexOf(':')).trim().equals(name))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim());
        }

        /**
         * Float32 FLOP per cycle and core at peak: two FMA units of the widest vector width (an FMA is 2
         * FLOP). AVX-512: 2 x 16 x 2 = 64, which assumes two 512-bit FMA units (some Xeons have one: then
         * it is 32); AVX2 + FMA: 2 x 8 x 2 = 32; AVX without FMA: one 8-wide add and one multiply = 16;
         * else SSE: 8.
         */
        int flopsPerCycle() {
            if (flags.contains("avx512f")) {
                return 64;
            }
            if (flags.contains("avx2") && flags.contains("fma")) {
                return 32;
            }
            return flags.contains("avx") ? 16 : 8;
        }

        /** FLOP/cycle x reported clock, GFLOP/s per core; NaN when the clock is not reported. */
        double peakGflopsPerCore() {
            return mhz > 0 ? flopsPerCycle() * mhz / 1_000 : Double.NaN;
        }

        String simdFlags() {
            List<String> present = SIMD_FLAGS.stream().filter(flags::contains).toList();
            return present.isEmpty() ? "none of " + SIMD_FLAGS : String.join(" ", present)
                    + (flags.contains("avx512f") ? "" : " (no avx512f)");
        }

        String peakDescription() {
            String why = flopsPerCycle() == 64 ? "AVX-512; assumes two 512-bit FMA units, with one it is half"
                    : flopsPerCycle() == 32 ? "AVX2 + FMA, two 256-bit FMA units"
                    : flopsPerCycle() == 16 ? "AVX without FMA" : "SSE";
            return String.format("%d FLOP/cycle (%s) x %.2f GHz = %.1f GFLOP/s (clock: /proc/cpuinfo \"cpu MHz\", the"
                    + " reported nominal clock; turbo unknown under KVM)", flopsPerCycle(), why, mhz / 1_000, peakGflopsPerCore());
        }

        @Override
        public String toString() {
            return String.format("%s, %d CPUs available to the JVM, %.0f MHz, flags %s", model, cpus, mhz, simdFlags());
        }
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
