package io.inferencefleet.worker.numa;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The machine's NUMA nodes and their CPUs, read from {@code /sys/devices/system/node/node*}/cpulist,
 * or given as text ({@code "0:0-3,8-11;1:4-7,12-15"}) so that multi-node behaviour can be tested on a
 * single-node machine. Without a node directory, one node holds every online CPU.
 * {@link #restrictedTo} narrows it to the CPUs a process may use ({@link AllowedCpus}).
 */
public final class NumaTopology {
    private static final Pattern NODE_DIR = Pattern.compile("node(\\d+)");

    private final Map<Integer, BitSet> nodes;

    private NumaTopology(Map<Integer, BitSet> nodes) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("a NUMA topology needs at least one node");
        }
        this.nodes = nodes;
    }

    /** Reads {@code sysNodeDir} (normally {@code /sys/devices/system/node}). */
    public static NumaTopology fromSys(Path sysNodeDir) {
        Map<Integer, BitSet> nodes = new TreeMap<>();
        if (Files.isDirectory(sysNodeDir)) {
            try (Stream<Path> entries = Files.list(sysNodeDir)) {
                for (Path entry : entries.toList()) {
                    Matcher m = NODE_DIR.matcher(entry.getFileName().toString());
                    Path cpulist = entry.resolve("cpulist");
                    if (m.matches() && Files.isRegularFile(cpulist)) {
                        BitSet cpus = parseCpuList(Files.readString(cpulist).trim());
                        if (!cpus.isEmpty()) {
                            nodes.put(Integer.parseInt(m.group(1)), cpus);
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + sysNodeDir, e);
            }
        }
        if (nodes.isEmpty()) {
            nodes.put(0, onlineCpus(sysNodeDir.resolveSibling("cpu").resolve("online")));
        }
        return new NumaTopology(nodes);
    }

    /**
     * {@code /sys/devices/system/cpu/online}; else CPUs 0 to availableProcessors - 1 (which counts only
     * the allowed CPUs, so under {@code taskset -c 1} it would wrongly name CPU 0: the file comes first).
     */
    private static BitSet onlineCpus(Path online) {
        try {
            if (Files.isRegularFile(online)) {
                BitSet cpus = parseCpuList(Files.readString(online).trim());
                if (!cpus.isEmpty()) {
                    return cpus;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the count
        }
        BitSet all = new BitSet();
        all.set(0, Runtime.getRuntime().availableProcessors());
        return all;
    }

    public static NumaTopology detect() {
        return fromSys(Path.of("/sys/devices/system/node"));
    }

    /** Parses {@code "node:cpulist;node:cpulist"}, e.g. {@code "0:0;1:1"}. */
    public static NumaTopology parse(String text) {
        Map<Integer, BitSet> nodes = new TreeMap<>();
        for (String part : text.split(";")) {
            String[] nodeAndCpus = part.trim().split(":");
            if (nodeAndCpus.length != 2) {
                throw new IllegalArgumentException("Invalid NUMA topology '" + text + "': expected node:cpulist;node:cpulist");
            }
            try {
                nodes.put(Integer.parseInt(nodeAndCpus[0].trim()), parseCpuList(nodeAndCpus[1].trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Invalid NUMA topology '" + text + "': " + e.getMessage(), e);
            }
        }
        return new NumaTopology(nodes);
    }

    /** Linux cpulist syntax: {@code "0-3,8,10-11"}. */
    public static BitSet parseCpuList(String list) {
        BitSet cpus = new BitSet();
        for (String range : list.split(",")) {
            String r = range.trim();
            if (r.isEmpty()) {
                continue;
            }
            int dash = r.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? r : r.substring(0, dash));
            int to = dash < 0 ? from : Integer.parseInt(r.substring(dash + 1));
            if (from < 0 || to < from) {
                throw new NumberFormatException("bad CPU range '" + r + "'");
            }
            cpus.set(from, to + 1);
        }
        return cpus;
    }

    public Map<Integer, BitSet> nodes() {
        Map<Integer, BitSet> copy = new TreeMap<>();
        nodes.forEach((k, v) -> copy.put(k, (BitSet) v.clone()));
        return copy;
    }

    /** CPUs of {@code node}; the error lists the nodes there are. */
    public BitSet cpus(int node) {
        BitSet cpus = nodes.get(node);
        if (cpus == null) {
            throw new IllegalArgumentException("Invalid value " + node + " for numa.node: this machine has nodes " + nodes.keySet());
        }
        return (BitSet) cpus.clone();
    }

    /**
     * This topology with each node's CPUs intersected with {@code allowed}; nodes left without a CPU
     * are dropped (see {@link #nodesWithout}).
     *
     * @throws IllegalArgumentException when no node keeps a CPU, naming the nodes and the allowed set
     */
    public NumaTopology restrictedTo(BitSet allowed) {
        Map<Integer, BitSet> kept = new TreeMap<>();
        nodes.forEach((node, cpus) -> {
            BitSet both = (BitSet) cpus.clone();
            both.and(allowed);
            if (!both.isEmpty()) {
                kept.put(node, both);
            }
        });
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("None of this machine's NUMA nodes (" + this + ") has a CPU this process"
                    + " may run on (allowed: " + cpuList(allowed) + ")");
        }
        return new NumaTopology(kept);
    }

    /** The nodes of this topology that {@code restricted} (from {@link #restrictedTo}) dropped. */
    public java.util.Set<Integer> nodesWithout(NumaTopology restricted) {
        java.util.Set<Integer> dropped = new java.util.TreeSet<>(nodes.keySet());
        dropped.removeAll(restricted.nodes.keySet());
        return dropped;
    }

    /** Whether this topology has {@code node}. */
    public boolean hasNode(int node) {
        return nodes.containsKey(node);
    }

    /** Linux cpulist syntax, e.g. {@code 0-3,8}: the inverse of {@link #parseCpuList}. */
    public static String cpuList(BitSet cpus) {
        StringBuilder sb = new StringBuilder();
        for (int from = cpus.nextSetBit(0); from >= 0; ) {
            int to = cpus.nextClearBit(from) - 1;
            sb.append(sb.length() == 0 ? "" : ",").append(from);
            if (to > from) {
                sb.append('-').append(to);
            }
            from = cpus.nextSetBit(to + 1);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        nodes.forEach((node, cpus) -> sb.append(sb.length() == 0 ? "" : ";").append(node).append(':')
                .append(cpus.toString().replaceAll("[{} ]", "")));
        return sb.toString();
    }
}
