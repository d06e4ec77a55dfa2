package io.inferencefleet.benchmarks.worker;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.management.ObjectName;

/**
 * CPU time of every thread of this process, from {@code /proc/self/task/<tid>/stat} (utime + stime) and
 * {@code /proc/self/task/<tid>/sched} (precise on-CPU time and context switches), named with the JVM's
 * own thread dump so that each thread can be given a role.
 *
 * <p>Why the thread dump: Linux truncates a thread's {@code comm} to 15 characters, and a native thread
 * (ONNX Runtime's or OpenBLAS's pool, OpenCV's) inherits the {@code comm} of the Java thread that
 * created it, so {@code comm} alone cannot tell a predictor from its math threads. The dump
 * ({@code Thread.print} through the DiagnosticCommand MBean, in process) names every Java and JVM
 * thread with its native id ({@code nid}); a task missing from it was made by native code.
 *
 * <p>Usage: {@code Snapshot a = ThreadCpu.snapshot(); ...; Snapshot b = ThreadCpu.snapshot();
 * Map<String, RoleCpu> roles = ThreadCpu.byRole(a, b, classifier);}
 */
final class ThreadCpu {
    /** Linux's USER_HZ on every x86-64 kernel: the unit of utime and stime in {@code /proc/.../stat}. */
    static final long TICKS_PER_SECOND = 100;
    private static final Path TASKS = Path.of("/proc/self/task");
    private static final Pattern DUMP_LINE = Pattern.compile("^\"(.*)\"\\s.*\\bnid=(0x[0-9a-fA-F]+|[0-9]+)");

    private ThreadCpu() {}

    /** One thread at one instant. {@code javaName} is null for a thread native code created. */
    record Task(int tid, String comm, String javaName, long ticks, long execNs, long voluntarySwitches,
                long involuntarySwitches) {
        String name() {
            return javaName != null ? javaName : comm;
        }
    }

    /**
     * Every thread at one instant; the process's own utime + stime (which, unlike the sum over live
     * threads, still holds the time of threads that have exited); and the whole machine's busy and total
     * ticks from {@code /proc/stat}, so that a report can say how much CPU other processes took.
     */
    record Snapshot(long wallNs, long processTicks, long machineBusyTicks, long machineTicks, Map<Integer, Task> tasks,
                    long childTicks, long childJitTicks) {
        /** CPU ms that processes other than this one (and the child) used from a to this snapshot (steal included). */
        double othersMsSince(Snapshot a) {
            return ((machineBusyTicks - a.machineBusyTicks) - (processTicks - a.processTicks) - (childTicks - a.childTicks))
                    * 1000.0 / TICKS_PER_SECOND;
        }

        /** CPU ms of the child process given to {@link #snapshot(long)} (0 without one), and of its JIT threads. */
        double childMsSince(Snapshot a) {
            return (childTicks - a.childTicks) * 1000.0 / TICKS_PER_SECOND;
        }

        double childJitMsSince(Snapshot a) {
            return (childJitTicks - a.childJitTicks) * 1000.0 / TICKS_PER_SECOND;
        }

        /** CPU ms this process used from a to this snapshot, exited threads included. */
        double processMsSince(Snapshot a) {
            return (processTicks - a.processTicks) * 1000.0 / TICKS_PER_SECOND;
        }
    }

    /** CPU and context switches of one role between two snapshots. */
    record RoleCpu(int threads, double cpuMs, double execMs, long voluntarySwitches, long involuntarySwitches) {
        RoleCpu plus(RoleCpu o) {
            return new RoleCpu(threads + o.threads, cpuMs + o.cpuMs, execMs + o.execMs,
                    voluntarySwitches + o.voluntarySwitches, involuntarySwitches + o.involuntarySwitches);
        }
    }

    static Snapshot snapshot() {
        return snapshot(-1);
    }

    /** As {@link #snapshot()}, with the utime + stime of process {@code childPid} and of its JIT threads (-1: none). */
    static Snapshot snapshot(long childPid) {
        Map<Integer, String> javaNames = javaThreadNames();
        long wall = System.nanoTime();
        Map<Integer, Task> tasks = new HashMap<>();
        try (Stream<Path> list = Files.list(TASKS)) {
            for (Path dir : list.toList()) {
                int tid = Integer.parseInt(dir.getFileName().toString());
                Task task = readTask(tid, dir, javaNames.get(tid));
                if (task != null) {
                    tasks.put(tid, task);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + TASKS, e);
        }
        long[] machine = machineTicks();
        long[] child = childPid < 0 ? new long[2] : childTicks(childPid);
        return new Snapshot(wall, processTicks(), machine[0], machine[1], Map.copyOf(tasks), child[0], child[1]);
    }

    /** Per role (as {@code classify} names them, in its order of first appearance), CPU between a and b. */
    static Map<String, RoleCpu> byRole(Snapshot a, Snapshot b, Function<Task, String> classify) {
        Map<String, RoleCpu> roles = new LinkedHashMap<>();
        long liveTicks = 0;
        for (Task end : b.tasks.values()) {
            Task start = a.tasks.get(end.tid);
            // A tid new in b was born between the snapshots (tids are not reused that fast).
            long ticks = end.ticks - (start == null ? 0 : start.ticks);
            long exec = end.execNs - (start == null ? 0 : start.execNs);
            long vol = end.voluntarySwitches - (start == null ? 0 : start.voluntarySwitches);
            long invol = end.involuntarySwitches - (start == null ? 0 : start.involuntarySwitches);
            liveTicks += ticks;
            roles.merge(classify.apply(end), new RoleCpu(1, ticks * 1000.0 / TICKS_PER_SECOND, exec / 1e6, vol, invol),
                    RoleCpu::plus);
        }
        long exited = (b.processTicks - a.processTicks) - liveTicks;
        if (exited > 0) {
            // Threads that were alive at a and gone at b (e.g. pool threads timing out): only the process knows.
            roles.merge(EXITED, new RoleCpu(0, exited * 1000.0 / TICKS_PER_SECOND, 0, 0, 0), RoleCpu::plus);
        }
        return roles;
    }

    static final String EXITED = "threads that exited in the window";

    /** One line per thread with CPU between a and b, most first: to learn names and check the roles. */
    static String dump(Snapshot a, Snapshot b, Function<Task, String> classify) {
        record Line(double ms, String text) {}
        return b.tasks.values().stream().map(end -> {
            Task start = a.tasks.get(end.tid);
            double ms = (end.execNs - (start == null ? 0 : start.execNs)) / 1e6;
            double ticksMs = (end.ticks - (start == null ? 0 : start.ticks)) * 1000.0 / TICKS_PER_SECOND;
            return new Line(ms, String.format("  %7d %-16s %-60s %-22s exec %8.1f ms  stat %8.1f ms",
                    end.tid, end.comm, end.javaName == null ? "(native)" : '"' + end.javaName + '"',
                    classify.apply(end), ms, ticksMs));
        }).sorted((x, y) -> Double.compare(y.ms, x.ms)).map(Line::text).collect(Collectors.joining("\n"));
    }

    /** Native ids of every thread alive now (to tell later which ones a step started). */
    static Set<Integer> liveTids() {
        try (Stream<Path> list = Files.list(TASKS)) {
            return list.map(p -> Integer.parseInt(p.getFileName().toString())).collect(Collectors.toUnmodifiableSet());
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + TASKS, e);
        }
    }

    private static Task readTask(int tid, Path dir, String javaName) {
        try {
            String stat = Files.readString(dir.resolve("stat"));
            // comm is in parentheses and may itself contain ") ": the fields follow the last ')'.
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            String comm = stat.substring(open + 1, close);
            String[] f = stat.substring(close + 2).split(" ");
            // After comm: state(0) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(11) stime(12)
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            long execNs = -1;
            long vol = 0;
            long invol = 0;
            for (String line : Files.readAllLines(dir.resolve("sched"))) {
                if (line.startsWith("se.sum_exec_runtime")) {
                    execNs = Math.round(Double.parseDouble(value(line)) * 1e6);  // printed in ms with ns decimals
                } else if (line.startsWith("nr_voluntary_switches")) {
                    vol = Long.parseLong(value(line));
                } else if (line.startsWith("nr_involuntary_switches")) {
                    invol = Long.parseLong(value(line));
                }
            }
            return new Task(tid, comm, javaName, ticks, execNs < 0 ? ticks * 1_000_000_000L / TICKS_PER_SECOND : execNs,
                    vol, invol);
        } catch (NoSuchFileException e) {
            return null;  // exited while we listed: its time is in the process's total
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + dir, e);
        }
    }

    private static String value(String schedLine) {
        return schedLine.substring(schedLine.indexOf(':') + 1).trim();
    }

    private static long processTicks() {
        return ticks(Path.of("/proc/self/stat"));
    }

    private static long ticks(Path stat) {
        try {
            String line = Files.readString(stat);
            String[] f = line.substring(line.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + stat, e);
        }
    }

    /** {process, JIT threads} ticks of another JVM: its compiler threads' comm is "C1/C2 CompilerThre". */
    private static long[] childTicks(long pid) {
        Path proc = Path.of("/proc/" + pid);
        long jit = 0;
        try (Stream<Path> list = Files.list(proc.resolve("task"))) {
            for (Path dir : list.toList()) {
                try {
                    String stat = Files.readString(dir.resolve("stat"));
                    if (stat.contains("CompilerThre")) {
                        jit += ticks(dir.resolve("stat"));
                    }
                } catch (IOException | IllegalStateException e) {
                    // exited meanwhile
                }
            }
            return new long[] {ticks(proc.resolve("stat")), jit};
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + proc, e);
        }
    }

    /** {busy, total} ticks of all CPUs: the first line of /proc/stat; idle and iowait are not busy. */
    private static long[] machineTicks() {
        try {
            String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = cpu.trim().split("\\s+");  // cpu user nice system idle iowait irq softirq steal ...
            long total = 0;
            long idle = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {  // guest time is already inside user
                long v = Long.parseLong(f[i]);
                total += v;
                if (i == 4 || i == 5) {
                    idle += v;
                }
            }
            return new long[] {total - idle, total};
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/stat", e);
        }
    }

    /** nid → name of every thread the JVM knows (Java threads, GC, JIT, VM threads). */
    static Map<Integer, String> javaThreadNames() {
        String dump;
        try {
            dump = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "threadPrint",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
        } catch (Exception e) {
            throw new IllegalStateException("cannot take a thread dump through the DiagnosticCommand MBean", e);
        }
        Map<Integer, String> names = new TreeMap<>();
        for (String line : dump.split("\n")) {
            Matcher m = DUMP_LINE.matcher(line);
            if (m.find()) {
                String nid = m.group(2);
                names.put(nid.startsWith("0x") ? Integer.parseInt(nid.substring(2), 16) : Integer.parseInt(nid), m.group(1));
            }
        }
        return names;
    }
}
