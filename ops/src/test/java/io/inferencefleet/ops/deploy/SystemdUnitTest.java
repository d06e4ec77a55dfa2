package io.inferencefleet.ops.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.inferencefleet.ops.fleet.RestartPolicy;
import io.inferencefleet.ops.fleet.Supervisor;
import io.inferencefleet.worker.WorkerExit;
import io.inferencefleet.worker.config.WorkerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd template {@code ops/systemd/inference-fleet@.service}: its restart policy is fleet up's
 * (same exit codes not restarted, same delay and limit, same stop timeout), it binds each instance to
 * its NUMA node, passes Kafka settings as a credential file, and sets only worker keys that exist. Where
 * {@code systemd-analyze} is installed, {@code systemd-analyze verify} accepts every instance
 * {@code numa-dropins.sh} sets up, without a single warning.
 */
class SystemdUnitTest {
    static final Path DIR = Path.of("systemd");
    static final Path UNIT = DIR.resolve("inference-fleet@.service");
    static final Path DROPINS = DIR.resolve("numa-dropins.sh");

    @TempDir
    Path temp;

    @Test
    void restartsAsFleetUpDoesAndNeverAfterAConfigurationOrKafkaRefusal() throws IOException {
        Map<String, List<String>> service = section(UNIT, "Service");
        Map<String, List<String>> unit = section(UNIT, "Unit");
        RestartPolicy fleetUp = RestartPolicy.defaults();
        assertEquals(List.of("always"), service.get("Restart"), "fleet up restarts after any exit but the three below");
        assertEquals(Set.of(Integer.toString(WorkerExit.CONFIG_ERROR), Integer.toString(WorkerExit.KAFKA_REFUSED),
                        Integer.toString(WorkerExit.FENCED)),
                Set.of(one(service, "RestartPreventExitStatus").split("\\s+")));
        assertEquals(fleetUp.initialBackoff().toSeconds() + "s", one(service, "RestartSec"));
        assertEquals(Long.toString(fleetUp.window().toSeconds()), one(unit, "StartLimitIntervalSec"));
        assertEquals(Integer.toString(fleetUp.maxRestarts() + 1), one(unit, "StartLimitBurst"),
                "the first start and maxRestarts restarts within the window");
        assertTrue(Arrays.asList(one(service, "SuccessExitStatus").split("\\s+")).contains("143"),
                "143 is the JVM's status after SIGTERM once drained");
        long drainSeconds = TimeUnit.MILLISECONDS.toSeconds(Integer.parseInt(WorkerConfig.SHUTDOWN_TIMEOUT_MS.defaultValue()));
        assertEquals((drainSeconds + Supervisor.EXIT_AFTER_DRAIN.toSeconds()) + "s", one(service, "TimeoutStopSec"),
                "shutdown.timeout.ms plus the time fleet up allows the JVM to exit");
        assertEquals("mixed", one(service, "KillMode"), "SIGTERM to the JVM alone");
    }

    @Test
    void eachInstanceRunsOnItsNodeWithItsOwnIdAndOnlyKnownWorkerKeys() throws IOException {
        Map<String, List<String>> service = section(UNIT, "Service");
        assertEquals("bind", one(service, "NUMAPolicy"));
        assertEquals("numa", one(service, "CPUAffinity"), "the CPUs of the NUMAMask nodes");
        assertFalse(service.containsKey("NUMAMask"), "systemd does not expand %i there: the mask is a per-node drop-in");
        Map<String, String> env = new LinkedHashMap<>();
        for (String assignment : service.get("Environment")) {
            env.put(assignment.substring(0, assignment.indexOf('=')), assignment.substring(assignment.indexOf('=') + 1));
        }
        assertEquals("%i", env.get("FLEET_NUMA_NODE"));
        assertEquals("%H-n%i", env.get("FLEET_WORKER_ID"), "as fleet up names workers: stable, so static membership");
        String documentation = WorkerConfig.documentation();
        for (String name : env.keySet()) {
            if (name.startsWith("FLEET_")) {
                assertTrue(documentation.contains("env " + name + ")"), name + " is not a worker key's variable");
            }
        }
        // Instance 0 on this host: the worker accepts the values as they come out of the specifiers.
        Map<String, String> instance0 = new LinkedHashMap<>();
        env.forEach((k, v) -> instance0.put(k, v.replace("%i", "0").replace("%H", "host").replace("%C", "/var/cache")));
        instance0.put("FLEET_NUMA_TOPOLOGY", "0:0");
        WorkerConfig config = WorkerConfig.resolve(null, instance0, Map.of());
        assertEquals(0, config.get(WorkerConfig.NUMA_NODE));
        assertEquals("host-n0", config.workerId());
        assertEquals(9400, config.get(WorkerConfig.METRICS_PORT));

        String exec = one(service, "ExecStart");
        List<String> args = List.of(exec.split("\\s+"));
        assertTrue(args.contains("--args-file=%d/kafka.properties"), "Kafka settings from the credentials directory: " + exec);
        assertTrue(one(service, "LoadCredential").startsWith("kafka.properties:"));
        assertTrue(args.stream().noneMatch(a -> a.startsWith("--kafka.") || a.toLowerCase().contains("password")),
                "no Kafka setting on the command line: " + exec);
        assertTrue(args.get(1).startsWith("@") && args.get(1).endsWith("/jvm.options"), "the JVM flags from jvm.options");
    }

    @Test
    void theDropInScriptWritesOneMaskPerNode() throws Exception {
        Path nodes = fakeNodes(0, 1, 3);
        Path units = Files.createDirectories(temp.resolve("units"));
        String printed = run(List.of("bash", DROPINS.toString(), units.toString(), nodes.toString()));
        assertEquals("inference-fleet@0.service\ninference-fleet@1.service\ninference-fleet@3.service\n", printed);
        for (int node : List.of(0, 1, 3)) {
            Path dropIn = units.resolve("inference-fleet@" + node + ".service.d/numa.conf");
            assertEquals(List.of(Integer.toString(node)), section(dropIn, "Service").get("NUMAMask"));
        }
    }

    @Test
    void systemdAnalyzeVerifyAcceptsEveryInstanceWithoutAWarning() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed (Debian package systemd); not verified");
        String java = section(UNIT, "Service").get("ExecStart").get(0).split("\\s+")[0];
        assumeTrue(Files.isExecutable(Path.of(java)), "the unit's " + java + " is absent here; verify would only say so");
        Path units = Files.createDirectories(temp.resolve("units"));
        Files.copy(UNIT, units.resolve(UNIT.getFileName()));
        String instances = run(List.of("bash", DROPINS.toString(), units.toString(), fakeNodes(0, 1).toString()));
        for (String instance : instances.strip().split("\n")) {
            Files.createSymbolicLink(units.resolve(instance), UNIT.getFileName());
            String output = run(List.of("systemd-analyze", "verify", "--man=no", units.resolve(instance).toString()));
            assertEquals("", output, "systemd-analyze verify " + instance + " printed warnings");
        }
    }

    private Path fakeNodes(int... ids) throws IOException {
        Path nodes = Files.createDirectories(temp.resolve("nodes-" + System.nanoTime()));
        for (int id : ids) {
            Files.createDirectories(nodes.resolve("node" + id));
        }
        Files.writeString(nodes.resolve("has_cpu"), "0-1\n");  // sysfs files beside the node directories
        return nodes;
    }

    /** The values of each key in one section of a unit file (keys may repeat). */
    static Map<String, List<String>> section(Path file, String name) throws IOException {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        String current = null;
        for (String line : Files.readAllLines(file)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith(";")) {
                continue;
            }
            if (trimmed.startsWith("[")) {
                current = trimmed.substring(1, trimmed.length() - 1);
            } else if (name.equals(current)) {
                int eq = trimmed.indexOf('=');
                keys.computeIfAbsent(trimmed.substring(0, eq), k -> new ArrayList<>()).add(trimmed.substring(eq + 1));
            }
        }
        return keys;
    }

    private static String one(Map<String, List<String>> section, String key) {
        List<String> values = section.get(key);
        assertTrue(values != null && values.size() == 1, "exactly one " + key + "=, got " + values);
        return values.get(0);
    }

    private static boolean onPath(String tool) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, tool)));
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + output);
        return output;
    }
}
