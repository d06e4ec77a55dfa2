package io.inferencefleet.ops.fleet;

import io.inferencefleet.worker.WorkerMain;
import io.inferencefleet.worker.config.KeyValueArgs;
import io.inferencefleet.worker.config.WorkerConfig;
import io.inferencefleet.worker.numa.NumaTopology;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The workers {@code fleet up} starts: {@code perNode} per NUMA node, each a child JVM
 * <pre>
 * [taskset -c CPUS] java @jvm.options -cp CLASSPATH io.inferencefleet.worker.WorkerMain [--config=FILE]
 *     --args-file=RUN_DIR/worker-args.properties --numa.node=N --workers.per.node=K
 *     --worker.id=HOST-nN-wI --metrics.port=... [--shm.dir=...]
 * </pre>
 * {@code taskset} binds the whole JVM (GC and JIT threads included) to the node before it starts;
 * the worker pins its own threads as well. The nodes and CPUs are those of {@link WorkerConfig#topology}:
 * each node's CPUs that this process may run on (a {@code fleet up} itself started under
 * {@code taskset}, or in a cpuset, plans within it); nodes without such CPUs get no worker. The pass-through settings go in one file readable by
 * its owner only ({@link #writeArgsFile}), never on the command line, where {@code ps} would show
 * secrets such as {@code kafka.sasl.jaas.config} to every local user. Each worker's id, metrics port
 * and shm directory come from {@link WorkerConfig#slot}, as for {@code numa.node=-1}.
 */
public final class WorkerPlan {
    /** Keys that differ per worker: set by the plan, never passed through. */
    static final Set<String> PER_WORKER_KEYS = Set.of(WorkerConfig.NUMA_NODE.name(), WorkerConfig.WORKERS_PER_NODE.name(),
            WorkerConfig.WORKER_ID.name(), WorkerConfig.METRICS_PORT.name(), WorkerConfig.SHM_DIR.name());
    /** The file of pass-through settings, in the run directory. */
    public static final String ARGS_FILE = "worker-args.properties";

    /** One planned worker. */
    public record Planned(String id, int node, String cpus, int metricsPort, List<String> command, Path log) {}

    private WorkerPlan() {}

    /**
     * @param config the settings as every worker will resolve them (file, environment and flags)
     * @param configFile the {@code --config} file, or null
     * @param taskset the taskset binary, or null to start the JVMs unbound
     */
    public static List<Planned> plan(WorkerConfig config, Path configFile, int perNode, String host, Path java,
                                     Path jvmOptions, String classPath, Path taskset, Path runDir) {
        List<Planned> workers = new ArrayList<>();
        int k = 0;
        for (Map.Entry<Integer, BitSet> node : config.topology().nodes().entrySet()) {
            String cpus = cpuList(node.getValue());
            for (int i = 0; i < perNode; i++, k++) {
                WorkerConfig.Slot slot = config.slot(host + "-n" + node.getKey() + "-w" + i, k);
                List<String> command = new ArrayList<>();
                if (taskset != null) {
                    command.addAll(List.of(taskset.toString(), "-c", cpus));
                }
                command.addAll(List.of(java.toString(), "@" + jvmOptions, "-cp", classPath, WorkerMain.class.getName()));
                if (configFile != null) {
                    command.add("--config=" + configFile);
                }
                command.add("--" + KeyValueArgs.ARGS_FILE + "=" + runDir.resolve(ARGS_FILE));
                command.add("--" + WorkerConfig.NUMA_NODE.name() + "=" + node.getKey());
                command.add("--" + WorkerConfig.WORKERS_PER_NODE.name() + "=" + perNode);
                slot.flags().forEach((key, value) -> command.add("--" + key + "=" + value));
                workers.add(new Planned(slot.workerId(), node.getKey(), cpus, slot.metricsPort(), command,
                        runDir.resolve(slot.workerId() + ".log")));
            }
        }
        return workers;
    }

    /** The settings every worker shares: {@code flags} without the per-worker keys and {@code config}. */
    public static Map<String, String> passThrough(Map<String, String> flags) {
        Map<String, String> shared = new LinkedHashMap<>(flags);
        shared.keySet().removeAll(PER_WORKER_KEYS);
        shared.remove("config");
        return shared;
    }

    /** Writes {@code settings} to {@code runDir}/{@value #ARGS_FILE}, readable and writable by its owner only. */
    public static Path writeArgsFile(Path runDir, Map<String, String> settings) throws IOException {
        Files.createDirectories(runDir);
        Path file = runDir.resolve(ARGS_FILE);
        Path temp = Files.createTempFile(runDir, ARGS_FILE, ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Properties properties = new Properties();
            properties.putAll(settings);
            try (Writer writer = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
                properties.store(writer, "fleet up: settings of every worker (--args-file); may hold secrets");
            }
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
        return file;
    }

    /** Linux cpulist syntax, e.g. {@code 0-3,8}. */
    public static String cpuList(BitSet cpus) {
        return NumaTopology.cpuList(cpus);
    }

    /** The first executable {@code name} on the PATH, or null. */
    public static Path onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (java.nio.file.Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
