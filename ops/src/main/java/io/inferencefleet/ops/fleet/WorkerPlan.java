package io.inferencefleet.ops.fleet;

import io.inferencefleet.worker.WorkerMain;
import io.inferencefleet.worker.numa.NumaTopology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The workers {@code fleet up} starts: {@code perNode} per NUMA node, each a child JVM
 * <pre>
 * [taskset -c CPUS] java @jvm.options -cp CLASSPATH io.inferencefleet.worker.WorkerMain
 *     --key=value ... (passed through) --numa.node=N --worker.id=HOST-nN-wI --metrics.port=BASE+K
 * </pre>
 * {@code taskset} binds the whole JVM (GC and JIT threads included) to the node before it starts;
 * the worker pins its own threads as well. A passed-through {@code shm.dir} gets the worker id
 * appended so that workers never share tensor queues.
 */
public final class WorkerPlan {
    /** Keys that differ per worker: set by the plan, never passed through. */
    static final Set<String> PER_WORKER_KEYS = Set.of("numa.node", "workers.per.node", "worker.id", "metrics.port", "shm.dir");

    /** One planned worker. */
    public record Planned(String id, int node, String cpus, int metricsPort, List<String> command, Path log) {}

    private WorkerPlan() {}

    /**
     * @param flags pass-through {@code key=value} settings in order ({@code config} included)
     * @param taskset the taskset binary, or null to start the JVMs unbound
     */
    public static List<Planned> plan(NumaTopology topology, int perNode, String host, Map<String, String> flags,
                                     Path java, Path jvmOptions, String classPath, Path taskset, Path runDir) {
        int basePort = Integer.parseInt(flags.getOrDefault("metrics.port", "9400"));
        String shmDir = flags.get("shm.dir");
        List<Planned> workers = new ArrayList<>();
        int k = 0;
        for (Map.Entry<Integer, BitSet> node : topology.nodes().entrySet()) {
            String cpus = cpuList(node.getValue());
            for (int i = 0; i < perNode; i++, k++) {
                String id = host + "-n" + node.getKey() + "-w" + i;
                int port = basePort + k;
                List<String> command = new ArrayList<>();
                if (taskset != null) {
                    command.addAll(List.of(taskset.toString(), "-c", cpus));
                }
                command.addAll(List.of(java.toString(), "@" + jvmOptions, "-cp", classPath, WorkerMain.class.getName()));
                flags.forEach((key, value) -> {
                    if (!PER_WORKER_KEYS.contains(key)) {
                        command.add("--" + key + "=" + value);
                    }
                });
                command.add("--numa.node=" + node.getKey());
                command.add("--workers.per.node=" + perNode);
                command.add("--worker.id=" + id);
                command.add("--metrics.port=" + port);
                if (shmDir != null && !shmDir.isBlank()) {
                    command.add("--shm.dir=" + Path.of(shmDir, id));
                }
                workers.add(new Planned(id, node.getKey(), cpus, port, command, runDir.resolve(id + ".log")));
            }
        }
        return workers;
    }

    /** Linux cpulist syntax, e.g. {@code 0-3,8}. */
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
