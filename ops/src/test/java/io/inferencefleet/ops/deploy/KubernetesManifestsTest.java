package io.inferencefleet.ops.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.inferencefleet.worker.config.KeyValueArgs;
import io.inferencefleet.worker.config.Secrets;
import io.inferencefleet.worker.config.WorkerConfig;
import io.inferencefleet.worker.lane.Pipeline;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifests under {@code ops/kubernetes} read with fabric8's Kubernetes model (KEDA's and the
 * Prometheus Operator's kinds as generic resources), checked against what the worker itself concludes
 * from the configuration they carry: Guaranteed QoS, a /dev/shm volume at least as large as the
 * worker's start-up check demands, the probes on the worker's endpoints, a grace period longer than
 * its drain, no secret on the command line or in the environment, and one topic, group and cluster
 * named alike by the worker's configuration and the autoscaler. The same checks run on the base as
 * written (every file kustomize would read exists and parses) and, where {@code kubectl} is
 * installed, on the example overlay as {@code kubectl kustomize} renders it.
 */
class KubernetesManifestsTest {
    static final Path ROOT = Path.of("kubernetes");
    static final Path BASE = ROOT.resolve("base");
    static final Path OVERLAY = ROOT.resolve("overlays/example");
    static final String CONFIG_FILE = "worker.properties";

    private final KubernetesSerialization serialization = new KubernetesSerialization();
    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

    @TempDir
    Path temp;

    @Test
    void theBaseAsWrittenHoldsEveryInvariant() throws Exception {
        Map<String, Object> kustomization = kustomization(BASE);
        List<HasMetadata> objects = new ArrayList<>();
        for (String resource : strings(kustomization.get("resources"))) {
            Path file = BASE.resolve(resource);
            assertTrue(Files.isRegularFile(file), "kustomization.yaml names " + resource + ", which is not a file in " + BASE);
            objects.addAll(parse(Files.readString(file), file.toString()));
        }
        Path config = generatedFile(kustomization, "configMapGenerator", "inference-fleet-worker", CONFIG_FILE, BASE);
        Path kafka = generatedFile(kustomization(OVERLAY), "secretGenerator", "inference-fleet-kafka", "kafka.properties",
                OVERLAY);
        check(objects, Files.readString(config), Files.readString(kafka), "inference-fleet-worker", "inference-fleet-kafka");
    }

    @Test
    void everyFileTheOverlayNamesExists() throws Exception {
        Map<String, Object> kustomization = kustomization(OVERLAY);
        for (String resource : strings(kustomization.get("resources"))) {
            Path path = OVERLAY.resolve(resource).normalize();
            assertTrue(Files.isRegularFile(path) || Files.isRegularFile(path.resolve("kustomization.yaml")),
                    "the overlay names " + resource + ": neither a file nor a kustomization directory");
            if (Files.isRegularFile(path)) {
                assertFalse(parse(Files.readString(path), path.toString()).isEmpty(), path + " holds no object");
            }
        }
        for (Object generator : (List<?>) kustomization.get("secretGenerator")) {
            Map<?, ?> g = (Map<?, ?>) generator;
            for (String key : List.of("files", "envs")) {
                for (String file : strings(g.get(key))) {
                    assertTrue(Files.isRegularFile(OVERLAY.resolve(file)), "secretGenerator " + g.get("name") + " names "
                            + file + ", which is missing");
                }
            }
        }
    }

    @Test
    void theOverlayAsKustomizeRendersItHoldsEveryInvariant() throws Exception {
        String rendered = kubectl("kustomize", OVERLAY.toString());
        List<HasMetadata> objects = parse(rendered, "kubectl kustomize " + OVERLAY);
        ConfigMap config = only(objects, ConfigMap.class);
        String configName = config.getMetadata().getName();
        assertTrue(configName.startsWith("inference-fleet-worker-"), "generated with a content hash: " + configName);
        io.fabric8.kubernetes.api.model.Secret kafka = objects.stream()
                .filter(o -> o instanceof io.fabric8.kubernetes.api.model.Secret
                        && o.getMetadata().getName().startsWith("inference-fleet-kafka-"))
                .map(o -> (io.fabric8.kubernetes.api.model.Secret) o).findFirst().orElseThrow();
        String kafkaProperties = new String(java.util.Base64.getMimeDecoder().decode(kafka.getData().get("kafka.properties")),
                StandardCharsets.UTF_8);
        check(objects, config.getData().get(CONFIG_FILE), kafkaProperties, configName, kafka.getMetadata().getName());
        for (HasMetadata o : objects) {
            if (!(o instanceof io.fabric8.kubernetes.api.model.Namespace)) {
                assertEquals("inference-fleet", o.getMetadata().getNamespace(), o.getKind() + " " + o.getMetadata().getName());
            }
        }
        Deployment deployment = only(objects, Deployment.class);
        for (Container c : containers(deployment.getSpec().getTemplate().getSpec())) {
            assertEquals("registry.example.com/inference-fleet:0.1.0", c.getImage(), c.getName());
        }
    }

    /** Every invariant, on one set of objects and the worker configuration and Kafka settings they carry. */
    private void check(List<HasMetadata> objects, String workerProperties, String kafkaProperties, String configMapName,
                       String kafkaSecretName) throws IOException {
        Deployment deployment = only(objects, Deployment.class);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container worker = pod.getContainers().stream().filter(c -> c.getName().equals("worker")).findFirst().orElseThrow();
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        assertEquals(podLabels, deployment.getSpec().getSelector().getMatchLabels(), "selector = pod labels");
        assertNull(deployment.getSpec().getReplicas(), "replicas are KEDA's: re-applying must not reset them");
        assertEquals(0, deployment.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal(),
                "a surge pod may find no partition and never turn ready: replace old before new");

        // The configuration resolves with the worker's own WorkerConfig (unknown keys, bad values and Kafka
        // overrides that break the delivery guarantee all fail here), with the Secret's settings as flags.
        Path configFile = Files.writeString(temp.resolve(CONFIG_FILE + "-" + System.nanoTime()), workerProperties);
        Path kafkaFile = Files.writeString(temp.resolve("kafka.properties-" + System.nanoTime()), kafkaProperties);
        int cpus = wholeCpus(worker);
        Map<String, String> flags = new LinkedHashMap<>(KeyValueArgs.parse(List.of("--args-file=" + kafkaFile)));
        for (String key : flags.keySet()) {
            assertTrue(key.startsWith("kafka."), "the Secret holds Kafka settings only, not " + key);
        }
        WorkerConfig config = WorkerConfig.resolve(configFile, Map.of(), flags);
        assertFalse(config.get(WorkerConfig.NUMA_PIN), "under the static CPU manager the cgroup's cpuset is the pinning;"
                + " numa.pin=true would pin to the whole node's cpulist from /sys");

        // Guaranteed QoS: every container, init containers included, requests = limits for CPU and memory.
        for (Container c : containers(pod)) {
            Map<String, Quantity> requests = c.getResources().getRequests();
            Map<String, Quantity> limits = c.getResources().getLimits();
            for (String resource : List.of("cpu", "memory")) {
                assertNotNull(limits.get(resource), c.getName() + " has a " + resource + " limit");
                assertEquals(amount(limits.get(resource)), amount(requests.get(resource)),
                        c.getName() + ": " + resource + " request = limit");
            }
            wholeCpus(c);
        }

        // /dev/shm: memory-backed, at least what the worker demands free there at start for the lanes it
        // plans on this many CPUs (the plan concluded by the worker's own code for a node of `cpus` CPUs).
        WorkerConfig onPodCpus = WorkerConfig.resolve(configFile, Map.of(), with(flags, Map.of("numa.pin", "true",
                "numa.node", "0", "numa.topology", "0:0-" + (cpus - 1))));
        int decoders = onPodCpus.threadPlan().decoders();
        assertEquals(cpus, onPodCpus.threadPlan().predictors(), "auto threads: one predictor per CPU of the pod");
        long shmBound = Pipeline.sharedMemoryBytes(decoders, PreprocessConfig.imageNet().tensorBytes());
        VolumeMount shmMount = mount(worker, "/dev/shm");
        Volume shm = volume(pod, shmMount.getName());
        assertNotNull(shm.getEmptyDir(), "/dev/shm is an emptyDir");
        assertEquals("Memory", shm.getEmptyDir().getMedium(), "/dev/shm is memory-backed");
        long sizeLimit = amount(shm.getEmptyDir().getSizeLimit()).longValueExact();
        assertTrue(sizeLimit >= shmBound, "/dev/shm sizeLimit " + sizeLimit + " bytes < " + shmBound + " bytes the worker needs"
                + " for " + decoders + " lanes");
        long memoryLimit = amount(worker.getResources().getLimits().get("memory")).longValueExact();
        assertTrue(memoryLimit > 4 * sizeLimit, "the memory limit also holds the tmpfs pages charged to it, and the JVM");
        // The emptyDir is 0777 without the sticky bit, which the worker refuses: an init container makes its own dir.
        Container shmInit = pod.getInitContainers().stream().filter(c -> c.getVolumeMounts().stream()
                .anyMatch(m -> m.getName().equals(shmMount.getName()))).findFirst().orElseThrow();
        assertEquals(List.of("mkdir", "-p", "-m", "0700", config.shmDir().getParent().toString()), shmInit.getCommand());

        // Probes on the worker's endpoints and port.
        int metricsPort = config.get(WorkerConfig.METRICS_PORT);
        assertEquals(metricsPort, port(worker, "metrics"));
        assertProbe(worker.getLivenessProbe(), "/health", worker);
        assertProbe(worker.getReadinessProbe(), "/ready", worker);
        assertProbe(worker.getStartupProbe(), "/health", worker);

        // The grace period outlasts the drain (shutdown.timeout.ms).
        long graceMs = TimeUnit.SECONDS.toMillis(pod.getTerminationGracePeriodSeconds());
        assertTrue(graceMs > config.get(WorkerConfig.SHUTDOWN_TIMEOUT_MS), "terminationGracePeriodSeconds " + graceMs
                + " ms must exceed shutdown.timeout.ms " + config.get(WorkerConfig.SHUTDOWN_TIMEOUT_MS));

        // Configuration from the ConfigMap and Kafka settings from the Secret, as files; no secret in args or env.
        List<String> args = worker.getArgs();
        assertEquals("worker", args.get(0));
        Map<String, String> argFlags = new LinkedHashMap<>();
        for (String arg : args.subList(1, args.size())) {
            assertTrue(arg.startsWith("--") && arg.indexOf('=') > 2, "a --key=value argument: " + arg);
            argFlags.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        assertEquals(Map.of("config", argFlags.get("config"), "args-file", argFlags.get("args-file")), argFlags,
                "only file paths on the command line");
        VolumeMount configMount = mount(worker, argFlags.get("config"));
        assertEquals(configMapName, volume(pod, configMount.getName()).getConfigMap().getName());
        assertEquals(CONFIG_FILE, configMount.getSubPath());
        Path argsFile = Path.of(argFlags.get("args-file"));
        VolumeMount secretMount = mount(worker, argsFile.getParent().toString());
        assertEquals(kafkaSecretName, volume(pod, secretMount.getName()).getSecret().getSecretName());
        assertEquals("kafka.properties", argsFile.getFileName().toString());
        for (Container c : containers(pod)) {
            for (String arg : c.getArgs() == null ? List.<String>of() : c.getArgs()) {
                String lower = arg.toLowerCase(java.util.Locale.ROOT);
                assertFalse(lower.startsWith("--kafka.") || lower.contains("jaas") || lower.contains("password")
                        || lower.contains("sasl") || (lower.startsWith("--") && Secrets.isSecret(lower.substring(2).split("=")[0])),
                        c.getName() + " argument " + arg + " looks like a Kafka or secret setting");
            }
            for (EnvVar env : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
                assertFalse(env.getValue() != null && (Secrets.isSecret(env.getName()) || env.getName().contains("KAFKA")),
                        c.getName() + " sets " + env.getName() + " to a literal value");
            }
        }

        // Spread across nodes; at most one worker disrupted at a time.
        assertTrue(pod.getTopologySpreadConstraints().stream().anyMatch(t -> t.getTopologyKey().equals("kubernetes.io/hostname")
                && t.getLabelSelector().getMatchLabels().equals(podLabels)), "spread over nodes");
        PodDisruptionBudget pdb = only(objects, PodDisruptionBudget.class);
        assertEquals(podLabels, pdb.getSpec().getSelector().getMatchLabels());
        assertNotNull(pdb.getSpec().getMaxUnavailable());

        // Prometheus: pod annotations and a ServiceMonitor on a Service that selects the pods.
        Map<String, String> annotations = deployment.getSpec().getTemplate().getMetadata().getAnnotations();
        assertEquals("true", annotations.get("prometheus.io/scrape"));
        assertEquals(Integer.toString(metricsPort), annotations.get("prometheus.io/port"));
        assertEquals("/metrics", annotations.get("prometheus.io/path"));
        Service service = only(objects, Service.class);
        assertEquals(podLabels, service.getSpec().getSelector());
        assertTrue(service.getSpec().getPorts().stream().anyMatch(p -> "metrics".equals(p.getName())
                && "metrics".equals(p.getTargetPort().getStrVal())));
        GenericKubernetesResource monitor = generic(objects, "monitoring.coreos.com/v1", "ServiceMonitor");
        assertEquals(service.getMetadata().getLabels().entrySet().containsAll(
                monitor.<Map<String, String>>get("spec", "selector", "matchLabels").entrySet()), true,
                "the ServiceMonitor selects the Service");
        Map<?, ?> endpoint = (Map<?, ?>) monitor.<List<?>>get("spec", "endpoints").get(0);
        assertEquals("metrics", endpoint.get("port"));
        assertEquals("/metrics", endpoint.get("path"));

        // KEDA: the same Deployment, cluster, topic and group; lag threshold above what a worker holds.
        GenericKubernetesResource scaled = generic(objects, "keda.sh/v1alpha1", "ScaledObject");
        assertEquals(deployment.getMetadata().getName(), scaled.get("spec", "scaleTargetRef", "name"));
        Map<?, ?> trigger = (Map<?, ?>) scaled.<List<?>>get("spec", "triggers").get(0);
        assertEquals("kafka", trigger.get("type"));
        Map<?, ?> meta = (Map<?, ?>) trigger.get("metadata");
        assertEquals(config.get(WorkerConfig.INPUT_TOPIC), meta.get("topic"));
        assertEquals(config.get(WorkerConfig.GROUP_ID), meta.get("consumerGroup"));
        assertEquals(config.get(WorkerConfig.BOOTSTRAP_SERVERS), meta.get("bootstrapServers"));
        assertEquals("earliest", meta.get("offsetResetPolicy"), "as the worker's consumer");
        int lagThreshold = Integer.parseInt((String) meta.get("lagThreshold"));
        int activation = Integer.parseInt((String) meta.get("activationLagThreshold"));
        assertTrue(lagThreshold > config.get(WorkerConfig.MAX_IN_FLIGHT), "lagThreshold " + lagThreshold
                + " must exceed max.in.flight " + config.get(WorkerConfig.MAX_IN_FLIGHT) + " (held records count as lag)");
        Map<String, String> scaledAnnotations = scaled.getMetadata().getAnnotations();
        double imagesPerSecond = Double.parseDouble(scaledAnnotations.get("inference-fleet.io/worker-images-per-second"));
        double waitSeconds = Double.parseDouble(scaledAnnotations.get("inference-fleet.io/target-wait-seconds"));
        assertEquals((int) Math.floor(imagesPerSecond * waitSeconds), lagThreshold,
                "lagThreshold = a worker's throughput x the target wait, rounded down");
        int minReplicas = ((Number) scaled.get("spec", "minReplicaCount")).intValue();
        int maxReplicas = ((Number) scaled.get("spec", "maxReplicaCount")).intValue();
        assertTrue(activation < lagThreshold);
        assertTrue(minReplicas >= 1 || activation == 0, "at zero replicas any waiting record must wake a worker");
        int partitions = Integer.parseInt(scaledAnnotations.get("inference-fleet.io/input-partitions"));
        assertTrue(maxReplicas <= partitions, "maxReplicaCount " + maxReplicas + " > " + partitions + " input partitions");
        assertTrue(minReplicas <= maxReplicas);
        assertEquals("false", meta.get("allowIdleConsumers"));
        String authName = (String) ((Map<?, ?>) trigger.get("authenticationRef")).get("name");
        GenericKubernetesResource auth = generic(objects, "keda.sh/v1alpha1", "TriggerAuthentication");
        assertEquals(authName, auth.getMetadata().getName());
    }

    private static void assertProbe(Probe probe, String path, Container container) {
        assertNotNull(probe, path + " probe of " + container.getName());
        assertEquals(path, probe.getHttpGet().getPath());
        String port = probe.getHttpGet().getPort().getStrVal();
        assertEquals("metrics", port, "the probe uses the named metrics port");
    }

    private static int port(Container container, String name) {
        return container.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst().orElseThrow()
                .getContainerPort();
    }

    private static int wholeCpus(Container c) {
        BigDecimal cpu = amount(c.getResources().getLimits().get("cpu"));
        assertEquals(0, cpu.signum() > 0 && cpu.stripTrailingZeros().scale() <= 0 ? 0 : 1,
                c.getName() + ": whole CPUs (the static CPU manager gives exclusive CPUs only to integer requests), got " + cpu);
        return cpu.intValueExact();
    }

    private static BigDecimal amount(Quantity q) {
        assertNotNull(q);
        return Quantity.getAmountInBytes(q);
    }

    private static List<Container> containers(PodSpec pod) {
        List<Container> all = new ArrayList<>(pod.getInitContainers());
        all.addAll(pod.getContainers());
        return all;
    }

    private static VolumeMount mount(Container c, String path) {
        return c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " mounts nothing at " + path));
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    private static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        Map<String, String> all = new LinkedHashMap<>(a);
        all.putAll(b);
        return all;
    }

    private static <T extends HasMetadata> T only(List<HasMetadata> objects, Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        assertEquals(1, found.size(), "exactly one " + type.getSimpleName() + " in " + objects.stream()
                .map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList());
        return found.get(0);
    }

    private static GenericKubernetesResource generic(List<HasMetadata> objects, String apiVersion, String kind) {
        List<GenericKubernetesResource> found = objects.stream()
                .filter(o -> o instanceof GenericKubernetesResource && apiVersion.equals(o.getApiVersion())
                        && kind.equals(o.getKind())).map(o -> (GenericKubernetesResource) o).toList();
        assertEquals(1, found.size(), "exactly one " + apiVersion + " " + kind);
        return found.get(0);
    }

    /** Every object in a (multi-document) YAML text; kinds fabric8 does not model come back generic. */
    private List<HasMetadata> parse(String text, String origin) {
        List<HasMetadata> objects = new ArrayList<>();
        Object parsed = serialization.unmarshal(text);
        if (parsed instanceof KubernetesList list) {
            objects.addAll(list.getItems());
        } else if (parsed instanceof List<?> list) {
            list.forEach(o -> objects.add((HasMetadata) o));
        } else if (parsed instanceof HasMetadata one) {
            objects.add(one);
        } else {
            throw new AssertionError(origin + " parsed as " + parsed);
        }
        for (HasMetadata o : objects) {
            assertNotNull(o.getMetadata().getName(), origin + ": a " + o.getKind() + " without a name");
        }
        return objects;
    }

    private Map<String, Object> kustomization(Path dir) throws IOException {
        Path file = dir.resolve("kustomization.yaml");
        assertTrue(Files.isRegularFile(file), "no " + file);
        @SuppressWarnings("unchecked")
        Map<String, Object> map = yaml.readValue(file.toFile(), Map.class);
        return map;
    }

    private static Path generatedFile(Map<String, Object> kustomization, String generatorKind, String name, String key,
                                      Path dir) {
        for (Object generator : (List<?>) kustomization.get(generatorKind)) {
            Map<?, ?> g = (Map<?, ?>) generator;
            if (name.equals(g.get("name"))) {
                for (String file : strings(g.get("files"))) {
                    if (file.equals(key)) {
                        Path path = dir.resolve(file);
                        assertTrue(Files.isRegularFile(path), generatorKind + " " + name + " names missing " + path);
                        return path;
                    }
                }
            }
        }
        throw new AssertionError("no " + generatorKind + " " + name + " with " + key + " in " + dir);
    }

    private static List<String> strings(Object list) {
        List<String> result = new ArrayList<>();
        if (list != null) {
            ((List<?>) list).forEach(o -> result.add((String) o));
        }
        return result;
    }

    /** Runs kubectl (its built-in kustomize works without a cluster); skips when it is not installed. */
    private static String kubectl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kubectl"));
        command.addAll(List.of(args));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException notInstalled) {
            assumeTrue(false, "kubectl is not installed (" + notInstalled.getMessage() + "); the overlay is checked as"
                    + " written only");
            throw notInstalled;
        }
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "kubectl did not finish");
        assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + output);
        return output;
    }

    static Properties properties(String text) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(text));
        return p;
    }
}
