package io.inferencefleet.benchmarks.shm;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import io.inferencefleet.shm.QueueCountersReader;
import org.HdrHistogram.Histogram;
import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * Tensor hand-off between two threads: our Chronicle-based shm transport (with and without
 * pre-faulting) against an ArrayBlockingQueue of float[] that copies, an Agrona ring buffer over a
 * reused /dev/shm mapping, and plain memcpy. These VMs are noisy, so every round runs every
 * contender (A B C D A B C D ...) and the report gives medians over rounds.
 *
 * <p>Latency: constant-rate open loop. The producer prepares tensor i (claim + the "preprocess"
 * write of 602,112 bytes), waits for its scheduled time t_i, sends; the consumer records
 * receive time - t_i, so a late sender is charged (no coordinated omission). Throughput: closed
 * loop for a fixed time; CPU from ThreadMXBean for producer, consumer and the transport's helper
 * threads; minor page faults from /proc/self/stat.
 *
 * <p>Usage: {@code benchmarks/run-shm-benchmarks.sh [rounds]} (about 30 s per round).
 */
public final class ShmBenchmarkSuite {
    static final int TENSOR_BYTES = 3 * 224 * 224 * 4;
    static final int[] RATES = {20, 200, 1000};
    static final double[] RATE_SECONDS = {3.0, 2.0, 2.0};
    static final double THROUGHPUT_SECONDS = 1.5;
    /** Producer (and our housekeeper) on one CPU, consumer on the other, for every contender. */
    static final int PRODUCER_CPU = 0;
    static final int CONSUMER_CPU = 1;
    static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final long source;
    private final Map<String, Map<String, List<Double>>> figures = new LinkedHashMap<>();  // metric -> contender -> rounds
    private final Map<String, Histogram> merged = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private boolean recording = true;
    private double hotMemcpyUs = measureHotMemcpyUs();
    private int tensorBytes = TENSOR_BYTES;
    private long footprintMaxDu;
    private long footprintBound;

    private ShmBenchmarkSuite() {
        ByteBuffer src = BufferUtil.allocateDirectAligned(TENSOR_BYTES, 64);
        for (int i = 0; i < TENSOR_BYTES; i += 4) {
            src.putFloat(i, (i % 997) / 997f);
        }
        source = BufferUtil.address(src);
        keep = src;
    }

    @SuppressWarnings("unused")
    private final ByteBuffer keep;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path out = args.length > 1 ? Path.of(args[1]) : null;
        ShmBenchmarkSuite suite = new ShmBenchmarkSuite();
        String started = LocalDateTime.now().toString();
        suite.warmUp();
        for (int round = 1; round <= rounds; round++) {
            System.out.printf("round %d/%d%n", round, rounds);
            suite.round(round);
        }
        String report = suite.report(rounds, started);
        System.out.println(report);
        if (out != null) {
            Files.createDirectories(out.getParent());
            Files.writeString(out, report, StandardCharsets.UTF_8);
            System.out.println("written to " + out);
        }
    }

    static final String SHM = "A shm (Chronicle, prefault)";
    static final String SHM_NOPF = "A' shm (no prefault)";
    static final String ABQ = "B ArrayBlockingQueue copy";
    static final String RING = "C Agrona ring /dev/shm";
    static final String MEMCPY = "D memcpy";
    static final String[] ORDER = {SHM, SHM_NOPF, ABQ, RING, MEMCPY};

    private void round(int round) throws Exception {
        // A B C D: every contender once per round, same order each time.
        latencies(SHM, () -> new Contenders.ChronicleShm("lat-" + round, true, 16));
        throughput(SHM, () -> new Contenders.ChronicleShm("tp-" + round, true, 32), true);
        throughput(SHM_NOPF, () -> new Contenders.ChronicleShm("tpn-" + round, false, 32), false);
        try (Contender c = new Contenders.ChronicleShm("latn-" + round, false, 16)) {
            latency(SHM_NOPF, c, 200, 2.0);
        }
        latencies(ABQ, () -> new Contenders.BlockingQueueCopy(16, TENSOR_BYTES));
        throughput(ABQ, () -> new Contenders.BlockingQueueCopy(32, TENSOR_BYTES), false);
        latencies(RING, () -> new Contenders.AgronaRing("lat-" + round, 8 << 20));
        throughput(RING, () -> new Contenders.AgronaRing("tp-" + round, 8 << 20), false);
        memcpy();
    }

    /**
     * JIT warm-up, discarded: Chronicle's write path takes tens of µs per call until C2 has
     * compiled it (~10k calls), which a long-running worker is long past. Small tensors first,
     * so the warm-up does not need gigabytes of /dev/shm, then every contender at full size.
     */
    private void warmUp() throws Exception {
        System.out.println("warm-up");
        recording = false;
        tensorBytes = 4096;
        for (int i = 0; i < 3; i++) {
            throughput(SHM, () -> new Contenders.ChronicleShm("warm-small", true, 256), false);
        }
        tensorBytes = TENSOR_BYTES;
        throughput(SHM, () -> new Contenders.ChronicleShm("warm", true, 32), false);
        throughput(ABQ, () -> new Contenders.BlockingQueueCopy(32, TENSOR_BYTES), false);
        throughput(RING, () -> new Contenders.AgronaRing("warm", 8 << 20), false);
        try (Contender c = new Contenders.ChronicleShm("warm-lat", true, 16)) {
            latency(SHM, c, 1000, 1.0);
        }
        recording = true;
    }

    private void latencies(String name, Supplier<Contender> factory) throws Exception {
        for (int r = 0; r < RATES.length; r++) {
            try (Contender c = factory.get()) {
                latency(name, c, RATES[r], RATE_SECONDS[r]);
            }
        }
    }

    private void latency(String name, Contender c, int rate, double seconds) throws Exception {
        int n = (int) (rate * seconds);
        long period = 1_000_000_000L / rate;
        long[] scheduled = new long[n];
        long[] preparedAt = new long[n];
        Histogram h = new Histogram(10_000_000_000L, 3);
        Histogram fill = new Histogram(10_000_000_000L, 3);
        Histogram send = new Histogram(10_000_000_000L, 3);
        Histogram emptyPoll = new Histogram(10_000_000_000L, 3);
        AtomicLong sameAddress = new AtomicLong();
        long[] cpu = new long[2];
        long[] busyCpu = new long[2];
        long helper0 = helperCpu(c.helperThreadPrefix());
        Thread consumer = new Thread(() -> {
            pin(CONSUMER_CPU);
            long cpu0 = THREADS.getCurrentThreadCpuTime();
            IdleStrategy idle = new YieldingIdleStrategy();
            int[] received = {0};
            long deadline = System.nanoTime() + (long) ((seconds + 10) * 1e9);
            while (received[0] < n && System.nanoTime() < deadline) {
                long p0 = System.nanoTime();
                long pc0 = THREADS.getCurrentThreadCpuTime();
                int got = c.poll((seq, address, bytes) -> {
                    long now = System.nanoTime();
                    h.recordValue(Math.max(0, now - scheduled[(int) seq]));
                    if (address == preparedAt[(int) seq]) {
                        sameAddress.incrementAndGet();
                    }
                    received[0]++;
                }, 16);
                if (got == 0) {
                    emptyPoll.recordValue(System.nanoTime() - p0);
                } else {
                    busyCpu[1] += THREADS.getCurrentThreadCpuTime() - pc0;
                }
                idle.idle(got);
            }
            cpu[1] = THREADS.getCurrentThreadCpuTime() - cpu0;
        }, "bench-consumer");
        Thread producer = new Thread(() -> {
            pin(PRODUCER_CPU);
            long cpu0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime() + 20_000_000L;
            for (int i = 0; i < n; i++) {
                scheduled[i] = t0 + i * period;
                long f0 = System.nanoTime();
                long fc0 = THREADS.getCurrentThreadCpuTime();
                while (!c.prepare(i, source, TENSOR_BYTES)) {
                    Thread.yield();
                }
                fill.recordValue(System.nanoTime() - f0);
                busyCpu[0] += THREADS.getCurrentThreadCpuTime() - fc0;
                preparedAt[i] = c.preparedAddress();
                waitUntil(scheduled[i]);
                long s0 = System.nanoTime();
                long sc0 = THREADS.getCurrentThreadCpuTime();
                c.send();
                send.recordValue(System.nanoTime() - s0);
                busyCpu[0] += THREADS.getCurrentThreadCpuTime() - sc0;
            }
            cpu[0] = THREADS.getCurrentThreadCpuTime() - cpu0;
        }, "bench-producer");
        consumer.start();
        producer.start();
        producer.join();
        consumer.join();
        if (h.getTotalCount() != n) {
            throw new IllegalStateException(name + " at " + rate + "/s: received " + h.getTotalCount() + " of " + n);
        }
        add("handoff p50 @" + rate + "/s (µs)", name, h.getValueAtPercentile(50) / 1e3);
        add("handoff p99 @" + rate + "/s (µs)", name, h.getValueAtPercentile(99) / 1e3);
        add("handoff p99.9 @" + rate + "/s (µs)", name, h.getValueAtPercentile(99.9) / 1e3);
        add("fill p50 @" + rate + "/s: claim + 602 KB write, off the handoff path (µs)", name, fill.getValueAtPercentile(50) / 1e3);
        add("fill p99 @" + rate + "/s (µs)", name, fill.getValueAtPercentile(99) / 1e3);
        add("send (commit) p99 @" + rate + "/s (µs)", name, send.getValueAtPercentile(99) / 1e3);
        add("empty poll p99 @" + rate + "/s (µs)", name, emptyPoll.getValueAtPercentile(99) / 1e3);
        long helper = helperCpu(c.helperThreadPrefix()) - helper0;
        add("transport CPU per tensor @" + rate + "/s: busy producer + consumer + helper, minus a hot memcpy (µs)", name,
                (busyCpu[0] + busyCpu[1] + helper) / 1e3 / n - hotMemcpyUs);
        add("  of which housekeeper (prefault + deletion) @" + rate + "/s (µs)", name, helper / 1e3 / n);
        add("CPU per tensor @" + rate + "/s incl. fill + idle polling (µs)", name, (cpu[0] + cpu[1]) / 1e3 / n);
        add("consumer got the producer's address (% of tensors)", name, 100.0 * sameAddress.get() / n);
        if (!recording) {
            return;
        }
        merged.computeIfAbsent(name + "@" + rate, k -> new Histogram(10_000_000_000L, 3)).add(h);
    }

    private void throughput(String name, Supplier<Contender> factory, boolean sampleFootprint) throws Exception {
        try (Contender c = factory.get()) {
            long durationNs = (long) (THROUGHPUT_SECONDS * 1e9);
            Histogram fill = new Histogram(10_000_000_000L, 3);
            long[] cpu = new long[2];
            long[] counts = new long[2];
            volatileStop = false;
            producerDone = false;
            Thread consumer = new Thread(() -> {
                pin(CONSUMER_CPU);
                long cpu0 = THREADS.getCurrentThreadCpuTime();
                IdleStrategy idle = new YieldingIdleStrategy();
                long[] sink = {0};
                long consumed = 0;
                while (true) {
                    int got = c.poll((seq, address, bytes) -> sink[0] += seq, 16);
                    consumed += got;
                    if (got == 0 && producerDone && consumed >= producedFinal) {
                        break;
                    }
                    idle.idle(got);
                }
                counts[1] = consumed;
                cpu[1] = THREADS.getCurrentThreadCpuTime() - cpu0;
            }, "bench-consumer");
            Thread producer = new Thread(() -> {
                pin(PRODUCER_CPU);
                long cpu0 = THREADS.getCurrentThreadCpuTime();
                long seq = 0;
                while (!volatileStop) {
                    long s0 = System.nanoTime();
                    if (c.prepare(seq, source, tensorBytes)) {
                        fill.recordValue(System.nanoTime() - s0);
                        c.send();
                        seq++;
                    } else {
                        Thread.yield();
                    }
                }
                counts[0] = seq;
                producedFinal = seq;
                cpu[0] = THREADS.getCurrentThreadCpuTime() - cpu0;
                producerDone = true;
            }, "bench-producer");
            long faults0 = minorFaults();
            long helperCpu0 = helperCpu(c.helperThreadPrefix());
            long start = System.nanoTime();
            consumer.start();
            producer.start();
            List<long[]> samples = new ArrayList<>();
            while (System.nanoTime() - start < durationNs) {
                if (sampleFootprint && c instanceof Contenders.ChronicleShm shm) {
                    Long written = QueueCountersReader.read(shm.directory()).get("writer.bytesWritten");
                    samples.add(new long[] {System.nanoTime(), du(shm.directory()), written});
                    Thread.sleep(50);
                } else {
                    Thread.sleep(10);
                }
            }
            volatileStop = true;
            producer.join();
            consumer.join(10_000);
            long elapsed = System.nanoTime() - start;
            long n = counts[1];
            long faults = minorFaults() - faults0;
            long helper = helperCpu(c.helperThreadPrefix()) - helperCpu0;
            add("sustained tensors/s (closed loop)", name, n * 1e9 / elapsed);
            add("fill time p50, claim + 602 KB write (µs)", name, fill.getValueAtPercentile(50) / 1e3);
            add("fill time p99, claim + 602 KB write (µs)", name, fill.getValueAtPercentile(99) / 1e3);
            add("CPU per tensor at max rate, all threads (µs)", name, (cpu[0] + cpu[1] + helper) / 1e3 / n);
            add("  of which helper thread (prefaulter) (µs)", name, helper / 1e3 / n);
            add("minor page faults per tensor (process)", name, (double) faults / n);
            add("copies after preprocessing wrote the tensor", name, c.copiesPerTensor());
            if (sampleFootprint && !samples.isEmpty()) {
                long maxDu = samples.stream().mapToLong(s -> s[1]).max().orElse(0);
                long cycle = 0;
                for (int i = 0, j = 0; i < samples.size(); i++) {
                    while (samples.get(i)[0] - samples.get(j)[0] > 1_050_000_000L) {
                        j++;
                    }
                    cycle = Math.max(cycle, samples.get(i)[2] - (j > 0 ? samples.get(j - 1)[2] : 0));
                }
                long bound = 32 * 610_000L + cycle + (4L << 20) + (2L << 20);
                add("queue dir max during max-rate run (MiB)", name, maxDu / 1048576.0);
                add("bound: capacity + 1 cycle + prefault + 2 MiB (MiB)", name, bound / 1048576.0);
                if (footprintBound == 0 || (double) maxDu / bound > (double) footprintMaxDu / footprintBound) {
                    footprintMaxDu = maxDu;  // the round closest to its bound
                    footprintBound = bound;
                }
                if (maxDu > bound) {
                    notes.add("footprint exceeded: " + maxDu + " > " + bound);
                }
            }
        }
    }

    private static volatile boolean volatileStop;
    private static volatile boolean producerDone;
    private static volatile long producedFinal;

    private void memcpy() {
        ByteBuffer dst = BufferUtil.allocateDirectAligned(TENSOR_BYTES, 64);
        long d = BufferUtil.address(dst);
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long n = 0;
        while (System.nanoTime() - start < 500_000_000L) {
            UnsafeApi.copyMemory(source, d, TENSOR_BYTES);
            n++;
        }
        long elapsed = System.nanoTime() - start;
        long cpu = THREADS.getCurrentThreadCpuTime() - cpu0;
        add("sustained tensors/s (closed loop)", MEMCPY, n * 1e9 / elapsed);
        add("fill time p50, claim + 602 KB write (µs)", MEMCPY, elapsed / 1e3 / n);
        add("CPU per tensor at max rate, all threads (µs)", MEMCPY, cpu / 1e3 / n);
        add("memcpy bandwidth (GB/s)", MEMCPY, (double) n * TENSOR_BYTES / elapsed);
        add("copies after preprocessing wrote the tensor", MEMCPY, 1);
    }

    /** CPU time of one 602 KB copy into a reused, hot buffer: the preprocessing write itself. */
    private double measureHotMemcpyUs() {
        ByteBuffer src = BufferUtil.allocateDirectAligned(TENSOR_BYTES, 64);
        ByteBuffer dst = BufferUtil.allocateDirectAligned(TENSOR_BYTES, 64);
        long s = BufferUtil.address(src);
        long d = BufferUtil.address(dst);
        for (int i = 0; i < 2000; i++) {
            UnsafeApi.copyMemory(s, d, TENSOR_BYTES);
        }
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        for (int i = 0; i < 2000; i++) {
            UnsafeApi.copyMemory(s, d, TENSOR_BYTES);
        }
        return (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e3 / 2000;
    }

    /** Off by default: on these VMs pinning made every contender's tail worse (a slow vCPU cannot be escaped). */
    static final boolean PIN = Boolean.getBoolean("shm.bench.pin");

    static void pin(int cpu) {
        if (PIN && Runtime.getRuntime().availableProcessors() > cpu) {
            net.openhft.affinity.Affinity.setAffinity(cpu);
        }
    }

    private static void waitUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            if (left > 200_000) {
                LockSupport.parkNanos(left - 150_000);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private static long helperCpu(String prefix) {
        if (prefix == null) {
            return 0;
        }
        long total = 0;
        for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith(prefix)) {
                total += Math.max(0, THREADS.getThreadCpuTime(info.getThreadId()));
            }
        }
        return total;
    }

    private static long minorFaults() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[7]);  // field 10 (minflt), counted from field 3 (state)
    }

    private static long du(Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("du", "-s", "-B1", dir.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        p.waitFor();
        return out.isBlank() ? 0 : Long.parseLong(out.split("\\s+")[0]);
    }

    private void add(String metric, String contender, double value) {
        if (!recording) {
            return;
        }
        figures.computeIfAbsent(metric, k -> new LinkedHashMap<>()).computeIfAbsent(contender, k -> new ArrayList<>()).add(value);
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private double med(String metric, String contender) {
        Map<String, List<Double>> m = figures.get(metric);
        return m == null || !m.containsKey(contender) ? Double.NaN : median(m.get(contender));
    }

    private String report(int rounds, String started) {
        StringBuilder sb = new StringBuilder();
        sb.append("# shm-transport benchmarks, ").append(LocalDate.now()).append("\n\n");
        sb.append("Started ").append(started).append("; ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, ")
                .append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.version"))
                .append("; tensor 602,112 bytes (3x224x224 float32); ").append(rounds)
                .append(" rounds, contenders interleaved per round; medians over rounds (each round's value in brackets).\n")
                .append("Command: `benchmarks/run-shm-benchmarks.sh ").append(rounds).append("`. Consumers poll with a yielding idle strategy;"
                + (PIN ? " producer (and the shm housekeeper) pinned to CPU 0, consumer to CPU 1, for every contender." : " threads not pinned.") + "\n\n");
        sb.append("| metric | ");
        for (String c : ORDER) {
            sb.append(c).append(" | ");
        }
        sb.append("A vs B | A vs C |\n|---|");
        for (int i = 0; i < ORDER.length + 2; i++) {
            sb.append("---|");
        }
        sb.append('\n');
        for (Map.Entry<String, Map<String, List<Double>>> e : figures.entrySet()) {
            sb.append("| ").append(e.getKey()).append(" | ");
            for (String c : ORDER) {
                List<Double> v = e.getValue().get(c);
                if (v == null) {
                    sb.append("– | ");
                } else {
                    sb.append(fmt(median(v)));
                    if (v.size() > 1) {
                        sb.append(" <sub>[");
                        for (int i = 0; i < v.size(); i++) {
                            sb.append(i > 0 ? " " : "").append(fmt(v.get(i)));
                        }
                        sb.append("]</sub>");
                    }
                    sb.append(" | ");
                }
            }
            double a = med(e.getKey(), SHM);
            sb.append(ratio(a, med(e.getKey(), ABQ))).append(" | ").append(ratio(a, med(e.getKey(), RING))).append(" |\n");
        }
        sb.append("\nAll rounds merged (handoff latency, µs):\n\n| contender @ rate | samples | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|---|\n");
        for (Map.Entry<String, Histogram> e : merged.entrySet()) {
            Histogram h = e.getValue();
            sb.append("| ").append(e.getKey()).append(" | ").append(h.getTotalCount()).append(" | ")
                    .append(fmt(h.getValueAtPercentile(50) / 1e3)).append(" | ").append(fmt(h.getValueAtPercentile(99) / 1e3))
                    .append(" | ").append(fmt(h.getValueAtPercentile(99.9) / 1e3)).append(" | ").append(fmt(h.getMaxValue() / 1e3))
                    .append(" |\n");
        }
        double p99 = med("handoff p99 @200/s (µs)", SHM);
        double cpuNet = med("transport CPU per tensor @200/s: busy producer + consumer + helper, minus a hot memcpy (µs)", SHM);
        double cpuMax = med("CPU per tensor at max rate, all threads (µs)", SHM) - hotMemcpyUs;
        double copies = med("copies after preprocessing wrote the tensor", SHM);
        double same = med("consumer got the producer's address (% of tensors)", SHM);
        sb.append("\nTargets (shm transport, A):\n\n");
        sb.append("- copies after preprocessing: ").append(fmt(copies)).append(" (consumer received the very address the producer wrote: ")
                .append(fmt(same)).append("% of tensors) — ").append(copies == 0 ? "MET" : "NOT MET").append('\n');
        sb.append("- handoff p99 at 200/s ≤ 50 µs: ").append(fmt(p99)).append(" µs — ").append(p99 <= 50 ? "MET" : "NOT MET").append('\n');
        sb.append("- transport CPU per tensor ≤ 500 µs: ").append(fmt(cpuNet))
                .append(" µs at 200/s (busy CPU of producer, consumer and housekeeper per tensor, minus one hot memcpy = the"
                        + " preprocessing write) — ").append(cpuNet <= 500 ? "MET" : "NOT MET")
                .append("; at max rate (closed loop, all threads, minus the memcpy): ").append(fmt(cpuMax)).append(" µs — ")
                .append(cpuMax <= 500 ? "MET" : "NOT MET").append('\n');
        sb.append("- /dev/shm footprint ≤ capacity + one cycle (+ prefault window + 2 MiB Chronicle metadata): round closest to"
                + " its bound peaked at ").append(fmt(footprintMaxDu / 1048576.0)).append(" MiB vs its bound ")
                .append(fmt(footprintBound / 1048576.0)).append(" MiB — ").append(footprintMaxDu <= footprintBound ? "MET" : "NOT MET").append('\n');
        for (String n : notes) {
            sb.append("- note: ").append(n).append('\n');
        }
        return sb.toString();
    }

    private static String ratio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || b == 0) {
            return "–";
        }
        return String.format("%.2fx", a / b);
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        if (Math.abs(v) >= 100) {
            return String.format("%.0f", v);
        }
        if (Math.abs(v) >= 10) {
            return String.format("%.1f", v);
        }
        return String.format("%.2f", v);
    }
}
