package io.inferencefleet.benchmarks.chaos;

import io.inferencefleet.benchmarks.paddle.BenchModels;
import io.inferencefleet.benchmarks.report.Machine;
import io.inferencefleet.benchmarks.worker.WorkerThroughputSuite;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The chaos command ({@code benchmarks/run-chaos.sh}, issue 11): a real fleet ({@code fleet up}, one
 * JVM per worker) on a real broker ({@code fleet broker}, a process of its own), disrupted while
 * requests flow, and an independent {@link ResultChecker} that reads the results topic from the
 * beginning and counts results per request id. Scenarios, each on fresh topics and a fresh
 * {@code fleet up}:
 * <ol>
 *   <li>{@code kill}: SIGKILL of one worker JVM at a time, {@code --kills} times, at a steady {@code --rate},
 *       waiting each time until the supervisor has restarted it and every worker is ready again;</li>
 *   <li>{@code broker}: SIGKILL of the broker and a restart on the same directory, {@code --broker.kills} times,
 *       while the workers run;</li>
 *   <li>{@code overload}: the sustainable rate measured with a backlog (or {@code --overload.rate}), then
 *       {@code --overload.factor} times that for {@code --seconds}, then the drain;</li>
 *   <li>{@code failover}: on a replicated cluster of its own ({@link FailoverCluster}: three KRaft nodes, each a
 *       process, topics of three replicas needing two in sync, one node leading every requests and results
 *       partition), SIGKILL of that node and a restart on its directory after {@code --broker.down.seconds}.</li>
 * </ol>
 * Every child process is stopped on exit, failures and SIGTERM included ({@link ChildProcesses}).
 * Writes {@code <out>/chaos-<date>.md}; exits 1 when a request had no result or the fleet did not recover.
 */
public final class ChaosRun {
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    /** Workers drain for up to shutdown.timeout.ms (30 s default) after SIGTERM; the supervisor waits 5 s more. */
    private static final Duration FLEET_STOP_TIMEOUT = Duration.ofSeconds(45);
    private static final int INPUT_PARTITIONS = 4;
    private static final int RESULT_PARTITIONS = 2;
    private static final Path SHM_ROOT = io.inferencefleet.shm.TensorQueueConfig.DEFAULT_ROOT;

    private final ChaosSettings settings;
    private final FleetCli cli;
    private final ChildProcesses children;
    private final Path imagesDir;
    private final List<Path> photos;
    private final Path modelDir;
    private final List<Path> shmDirs = new ArrayList<>();
    private final long startNs = System.nanoTime();
    private BrokerProcess broker;
    private FailoverCluster cluster;  // the failover scenario's, while it runs
    private volatile FleetProcess fleet;
    private volatile boolean cleanedUp;

    private ChaosRun(ChaosSettings settings, FleetCli cli, ChildProcesses children, Path imagesDir, List<Path> photos,
                     Path modelDir) {
        this.settings = settings;
        this.cli = cli;
        this.children = children;
        this.imagesDir = imagesDir;
        this.photos = photos;
        this.modelDir = modelDir;
    }

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help")) {
            System.out.println(ChaosSettings.usage());
            return;
        }
        ChaosSettings settings;
        try {
            settings = ChaosSettings.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("chaos: " + e.getMessage());
            System.exit(2);
            return;
        }
        Files.createDirectories(settings.runDir());
        FleetCli cli = FleetCli.at(Path.of(""));
        ChildProcesses children = new ChildProcesses(settings.runDir());
        Path images = WorkerThroughputSuite.sharedImagesDir();
        ChaosRun run = new ChaosRun(settings, cli, children, images, WorkerThroughputSuite.sharedPhotos(images),
                BenchModels.ensure(settings.model()).modelFile().getParent());
        Thread hook = new Thread(run::cleanUp, "chaos-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        int code;
        try {
            code = run.run();
        } finally {
            run.cleanUp();
        }
        System.exit(code);
    }

    private int run() throws Exception {
        Map<String, String> machine = Machine.describe(settings.command());
        progress("run directory %s; model %s (%s); %d photos from %s", settings.runDir(), settings.model(), modelDir,
                photos.size(), imagesDir);
        int port = freePortPair();
        broker = new BrokerProcess(cli, settings.runDir().resolve("kafka"), port, settings.runDir().resolve("broker.log"),
                children);
        progress("%s", broker.start(START_TIMEOUT));
        List<ScenarioOutcome> outcomes = new ArrayList<>();
        for (String scenario : settings.scenarios()) {
            ScenarioOutcome outcome = scenario(scenario);
            outcomes.add(outcome);
            progress("%s: requests %d, answered %d, lost %d, duplicates %d, peak RSS %.0f MiB, peak shm %.1f MiB, drain %.1f s%s",
                    scenario, outcome.tally().requests(), outcome.tally().answered(), outcome.tally().lost(),
                    outcome.tally().duplicates(), outcome.peakRssBytes() / 1048576.0, outcome.peakShmDirBytes() / 1048576.0,
                    outcome.tally().drainSeconds(), outcome.problems().isEmpty() ? "" : "; PROBLEMS: " + outcome.problems());
        }
        Files.createDirectories(settings.out());
        Path report = settings.out().resolve("chaos-" + LocalDate.now() + ".md");
        Files.writeString(report, ChaosReport.markdown(settings, machine, outcomes,
                notableLines(kafkaLogs())));
        progress("report written to %s", report);
        // Exactly-once promises read_committed readers no duplicates either.
        boolean ok = outcomes.stream().allMatch(o -> o.tally().lost() == 0 && o.problems().isEmpty()
                && (!settings.exactlyOnce() || o.tally().duplicates() == 0));
        return ok ? 0 : 1;
    }

    /** One scenario on fresh topics with a fresh fleet; always stops its fleet. */
    private ScenarioOutcome scenario(String name) throws Exception {
        String in = "chaos-" + name + "-images";
        String out = "chaos-" + name + "-predictions";
        String bootstrap;
        if (name.equals("failover")) {
            bootstrap = startCluster(in, out);
        } else {
            bootstrap = broker.bootstrapServers();
            createTopics(in, out);
        }
        // Named after the run directory, so that run-chaos.sh can remove what a killed harness left behind.
        Path shmDir = SHM_ROOT.resolve(settings.runDir().getFileName() + "-" + name);
        shmDirs.add(shmDir);
        Map<String, String> worker = new LinkedHashMap<>();
        worker.put("bootstrap.servers", bootstrap);
        worker.put("model.dir", modelDir.toString());
        worker.put("fetch.file.roots", imagesDir.toString());
        worker.put("input.topic", in);
        worker.put("results.topic", out);
        worker.put("group.id", "chaos-" + name);
        worker.put("shm.dir", shmDir.toString());
        worker.put("metrics.host", "127.0.0.1");
        worker.put("metrics.port", Integer.toString(freePortPair()));
        worker.put("delivery.guarantee", settings.guarantee());
        settings.workerSettings().forEach((k, v) -> {
            if (worker.containsKey(k)) {
                throw new IllegalArgumentException("Invalid value " + k + " in --worker.settings: set by the harness");
            }
            worker.put(k, v);
        });
        long shmFsBaseline = shmFsUsed();
        Scenario s = new Scenario(name);
        s.fleet = FleetProcess.start(cli, settings.perNode(), settings.runDir().resolve("fleet-" + name), worker, children,
                FLEET_STOP_TIMEOUT);
        fleet = s.fleet;
        String stop;
        ResourceSampler sampler = new ResourceSampler(s.fleet::workerPids, shmDir);
        long scenarioStartNs = System.nanoTime();
        try (LoadPublisher publisher = new LoadPublisher(bootstrap, in, photos, imagesDir, settings.badEvery());
             ResultChecker live = new ResultChecker(bootstrap, in, out, settings.exactlyOnce())) {
            s.publisher = publisher;
            s.live = live;
            sampler.start();
            try {
                s.expectedWorkers = s.awaitSlots();
                double up = s.awaitReady(Duration.ofSeconds(settings.recoverySeconds()));
                if (Double.isNaN(up)) {
                    s.problems.add("the fleet was not ready " + settings.recoverySeconds() + " s after fleet up");
                } else {
                    progress("%s: %d workers ready after %.1f s", name, s.expectedWorkers, up);
                    switch (name) {
                        case "kill" -> killWorkers(s);
                        case "broker" -> killBroker(s);
                        case "overload" -> overload(s);
                        case "failover" -> failover(s, in);
                        default -> throw new IllegalArgumentException(name);
                    }
                }
            } finally {
                publisher.stopSteady();
            }
            drain(s);
        } finally {
            stop = s.fleet.stop();
            fleet = null;
            sampler.close();
        }
        double seconds = (System.nanoTime() - scenarioStartNs) / 1e9;
        progress("%s: %s", name, stop);
        long shmLeft = ResourceSampler.du(shmDir);
        ResultLedger.Tally tally;
        try (ResultChecker checker = new ResultChecker(bootstrap, in, out, settings.exactlyOnce())) {
            if (!checker.catchUp(Duration.ofMinutes(2))) {
                s.problems.add("the final check could not read both topics to their end within 2 minutes");
            }
            tally = checker.tally(s.recoveries.stream().map(ScenarioOutcome.Recovery::disruption).toList());
        }
        stopCluster();
        List<String> events = s.fleet.events();
        return new ScenarioOutcome(name, description(name), in, out, tally, s.recoveries, sampler.peakRssBytes(),
                sampler.peakRssWorkers(), sampler.peakShmDirBytes(), shmLeft, shmFsBaseline, sampler.peakShmFsBytes(),
                s.publisher.sent(), s.publisher.acked(), s.publisher.failed(), s.publisher.firstFailure(), s.notes, events,
                exitCodes(events), notableLines(workerLogs(s.fleet)), s.problems, stop, seconds);
    }

    private String description(String name) {
        return switch (name) {
            case "kill" -> String.format("SIGKILL of one worker JVM at a time (alternating), %d times, at %.1f req/s; each"
                    + " time the harness waits until the supervisor has restarted it and every worker is ready, then %d s",
                    settings.kills(), settings.rate(), settings.settleSeconds());
            case "broker" -> String.format("SIGKILL of the broker process, %d times, restarted after %d s on the same"
                    + " directory and port, workers running, at %.1f req/s", settings.brokerKills(),
                    settings.brokerDownSeconds(), settings.rate());
            case "failover" -> String.format("SIGKILL of the Kafka node leading every partition of the requests and"
                    + " results topics, in a cluster of %d KRaft nodes (broker and controller each, one process each; topics"
                    + " of 3 replicas, min.insync.replicas=2, results topic with LogAppendTime), restarted after %d s on its"
                    + " directory and ports, workers running, at %.1f req/s", FailoverCluster.NODES, settings.brokerDownSeconds(),
                    settings.rate());
            default -> String.format("sustainable rate %s, then %.1f× that for %d s, then the drain",
                    settings.sustainableRate() > 0 ? "given (--overload.rate)" : "measured with a backlog of photos",
                    settings.overloadFactor(), settings.overloadSeconds());
        };
    }

    // ---- scenarios

    private void killWorkers(Scenario s) throws Exception {
        s.publisher.startSteady(s.name, settings.rate());
        s.pause(settings.settleSeconds());
        List<String> ids = s.fleet.slots().stream().map(FleetProcess.Slot::id).sorted().toList();
        for (int k = 1; k <= settings.kills(); k++) {
            String victim = ids.get((k - 1) % ids.size());
            long pid = s.fleet.slot(victim).map(FleetProcess.Slot::pid).orElse(-1L);
            if (pid <= 0) {
                s.problems.add("kill " + k + ": worker " + victim + " has no process to kill");
                break;
            }
            long atMs = System.currentTimeMillis();
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            ResultLedger.Disruption d = new ResultLedger.Disruption("worker kill", k, atMs, victim, pid);
            double recovered = s.awaitRestarted(victim, pid, Duration.ofSeconds(settings.recoverySeconds()));
            s.recoveries.add(new ScenarioOutcome.Recovery(d, recovered, Double.NaN,
                    s.fleet.slot(victim).map(slot -> "restarts " + slot.restarts()).orElse("")));
            progress("%s: kill %d/%d %s pid %d; %s; answered %d/%d", s.name, k, settings.kills(), victim, pid,
                    Double.isNaN(recovered) ? "NOT RECOVERED" : String.format("fleet ready again after %.1f s", recovered),
                    s.live.answered(), s.live.requests());
            if (Double.isNaN(recovered)) {
                s.problems.add("kill " + k + ": worker " + victim + " (pid " + pid + ") was not restarted and ready within "
                        + settings.recoverySeconds() + " s; slots " + s.fleet.slots());
                break;
            }
            s.pause(settings.settleSeconds());
        }
    }

    private void killBroker(Scenario s) throws Exception {
        s.publisher.startSteady(s.name, settings.rate());
        s.pause(settings.settleSeconds());
        for (int k = 1; k <= settings.brokerKills(); k++) {
            long pid = broker.pid();
            long atMs = System.currentTimeMillis();
            long atNs = System.nanoTime();
            broker.kill();
            ResultLedger.Disruption d = new ResultLedger.Disruption("broker kill", k, atMs, "broker", pid);
            s.pause(settings.brokerDownSeconds());
            String line = broker.start(START_TIMEOUT);
            long restartedMs = System.currentTimeMillis();
            double brokerBack = (System.nanoTime() - atNs) / 1e9;
            double recovered = s.awaitReady(Duration.ofSeconds(settings.recoverySeconds()));
            double ready = Double.isNaN(recovered) ? Double.NaN : (System.nanoTime() - atNs) / 1e9;
            double resumed = s.awaitAnswerToRequestAfter(restartedMs, Duration.ofSeconds(settings.recoverySeconds()));
            double resumedFromKill = Double.isNaN(resumed) ? Double.NaN : (restartedMs - atMs) / 1000.0 + resumed;
            s.recoveries.add(new ScenarioOutcome.Recovery(d, ready, resumedFromKill,
                    String.format("broker serving again %.1f s after the kill (new pid %d)", brokerBack, broker.pid())));
            progress("%s: broker kill %d/%d pid %d; %s; broker back after %.1f s; workers ready after %.1f s;"
                    + " answers to new requests after %.1f s; answered %d/%d", s.name, k, settings.brokerKills(), pid, line,
                    brokerBack, ready, resumedFromKill, s.live.answered(), s.live.requests());
            if (Double.isNaN(ready) || Double.isNaN(resumed)) {
                s.problems.add("broker kill " + k + ": the fleet did not " + (Double.isNaN(ready) ? "become ready"
                        : "answer new requests") + " within " + settings.recoverySeconds() + " s of the broker restart; slots "
                        + s.fleet.slots());
                break;
            }
            s.pause(settings.settleSeconds());
        }
    }

    private void failover(Scenario s, String in) throws Exception {
        s.publisher.startSteady(s.name, settings.rate());
        s.pause(settings.settleSeconds());
        int victim = cluster.leader(in);
        List<String> led = cluster.partitionsLedBy(victim);
        s.notes.put("partitions led by the killed node", led.size() + " of " + (INPUT_PARTITIONS + RESULT_PARTITIONS)
                + ": " + led);
        long pid = cluster.pid(victim);
        long atMs = System.currentTimeMillis();
        long atNs = System.nanoTime();
        cluster.kill(victim);
        ResultLedger.Disruption d = new ResultLedger.Disruption("leader kill", 1, atMs, "Kafka node " + victim, pid);
        Duration recovery = Duration.ofSeconds(settings.recoverySeconds());
        double elected = s.awaitUntil(() -> cluster.ledByOthersThan(victim), recovery) ? since(atNs) : Double.NaN;
        long electedMs = System.currentTimeMillis();
        s.notes.put("new leaders elected", secs(elected) + " after the kill (every partition led by another node)");
        progress("%s: SIGKILL of node %d (pid %d, leading %s); new leaders after %s", s.name, victim, pid, led,
                secs(elected));

        s.pause(settings.brokerDownSeconds());
        cluster.restart(victim, START_TIMEOUT);
        long restartedMs = System.currentTimeMillis();
        s.notes.put("killed node serving again", secs(since(atNs)) + " after the kill (restarted after "
                + settings.brokerDownSeconds() + " s)");
        double inSync = s.awaitUntil(cluster::fullyInSync, recovery) ? since(atNs) : Double.NaN;
        s.notes.put("replicas in sync again", secs(inSync) + " after the kill (all " + FailoverCluster.NODES
                + " nodes in every partition's ISR)");
        boolean ready = !Double.isNaN(s.awaitReady(recovery));
        double whole = !Double.isNaN(inSync) && ready ? since(atNs) : Double.NaN;
        // The backlog is what was published while the partitions had no leader.
        s.awaitUntil(() -> s.live.allAnsweredPublishedBefore(electedMs) > 0, recovery);
        long drainedMs = s.live.allAnsweredPublishedBefore(electedMs);
        s.notes.put("backlog answered", drainedMs <= 0 ? "NOT within " + recovery.toSeconds() + " s" : String.format(
                "%.1f s after the kill: every request published before the new leaders were elected (%.1f s after the"
                + " kill) had its answer", (drainedMs - atMs) / 1000.0, (electedMs - atMs) / 1000.0));
        long firstNewMs = s.live.firstAnswerPublishedAfter(atMs);
        double firstNew = firstNewMs <= 0 ? Double.NaN : (firstNewMs - atMs) / 1000.0;
        s.notes.put("first answer to a request published after the kill", secs(firstNew) + " after the kill");
        s.recoveries.add(new ScenarioOutcome.Recovery(d, whole, firstNew, "new leaders after " + secs(elected)
                + "; recovered = killed node back in every ISR and every worker ready"));
        if (Double.isNaN(whole)) {
            s.problems.add("failover: not whole again within " + recovery.toSeconds() + " s (replicas in sync: "
                    + secs(inSync) + ", workers ready: " + ready + ")");
        }
        progress("%s: node %d back; replicas in sync after %s; %s; answered %d/%d", s.name, victim, secs(inSync),
                s.notes.get("backlog answered"), s.live.answered(), s.live.requests());
        s.pause(settings.settleSeconds());
    }

    /** Starts the failover scenario's cluster with its topics; returns its bootstrap servers. */
    private String startCluster(String in, String out) throws Exception {
        cluster = FailoverCluster.start(clusterDir(), cli.jvmOptions(), children, in, INPUT_PARTITIONS, out,
                RESULT_PARTITIONS, START_TIMEOUT);
        progress("failover: %d-node KRaft cluster serving at %s", FailoverCluster.NODES, cluster.bootstrapServers());
        return cluster.bootstrapServers();
    }

    private Path clusterDir() {
        return settings.runDir().resolve("kafka-cluster");
    }

    private void stopCluster() {
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }

    private static double since(long ns) {
        return (System.nanoTime() - ns) / 1e9;
    }

    private static String secs(double s) {
        return Double.isNaN(s) ? "NOT within the recovery time" : String.format("%.1f s", s);
    }

    private void overload(Scenario s) throws Exception {
        double sustainable = settings.sustainableRate();
        if (sustainable == 0) {
            boolean tiny = settings.model().equals("tiny");
            // A first backlog, unmeasured, warms the JIT of workers, broker and harness; the second is measured.
            int warmUp = tiny ? 480 : 24;
            s.publisher.backlog(s.name + "-warmup", warmUp);
            s.awaitAnswered(s.name + "-warmup", warmUp, Duration.ofMinutes(10));
            int backlog = tiny ? 960 : 96;
            String prefix = s.name + "-measure";
            long t0 = System.currentTimeMillis();
            s.publisher.backlog(prefix, backlog);
            s.awaitAnswered(prefix, backlog, Duration.ofMinutes(10));
            List<Long> times = s.live.answerTimes(prefix);
            if (times.size() < backlog) {
                s.problems.add("rate measurement: only " + times.size() + " of " + backlog + " backlog requests answered");
                return;
            }
            int from = backlog / 10;
            int to = backlog - 1 - backlog / 10;
            sustainable = (to - from) / ((times.get(to) - times.get(from)) / 1000.0);
            s.notes.put("sustainable rate (measured)", String.format("%.1f req/s: steady middle 80 %% of a backlog of %d"
                    + " photos (after an unmeasured one of %d), all answered %.1f s after publishing began", sustainable, backlog, warmUp,
                    (times.get(times.size() - 1) - t0) / 1000.0));
        } else {
            s.notes.put("sustainable rate (given)", String.format("%.1f req/s", sustainable));
        }
        double offered = settings.overloadFactor() * sustainable;
        progress("%s: sustainable %.1f req/s; offering %.1f req/s for %d s", s.name, sustainable, offered,
                settings.overloadSeconds());
        long fromMs = System.currentTimeMillis();
        long sentBefore = s.publisher.sent();
        s.publisher.startSteady(s.name, offered);
        s.pause(settings.overloadSeconds());
        s.publisher.stopSteady();
        long toMs = System.currentTimeMillis();
        double seconds = (toMs - fromMs) / 1000.0;
        long sent = s.publisher.sent() - sentBefore;
        s.notes.put("offered", String.format("%.1f req/s (%.1f× sustainable): %d requests in %.1f s", sent / seconds,
                sent / seconds / sustainable, sent, seconds));
        double answeredRate = s.live.answersBetween(fromMs, toMs) / seconds;
        s.notes.put("answered during the overload", String.format("%.1f req/s (offered / answered = %.1f)", answeredRate,
                sent / seconds / answeredRate));
    }

    /** Waits until every acknowledged request has a result, or no result arrived for drain.idle.seconds. */
    private void drain(Scenario s) {
        long idleLimitNs = Duration.ofSeconds(settings.drainIdleSeconds()).toNanos();
        long lastProgressNs = System.nanoTime();
        long lastPrintNs = System.nanoTime();
        int lastResults = -1;
        while (true) {
            s.live.poll(Duration.ofMillis(500));
            int results = s.live.results();
            if (results != lastResults) {
                lastResults = results;
                lastProgressNs = System.nanoTime();
            }
            int answered = s.live.answered();
            if (s.live.requests() >= s.publisher.acked() && answered >= s.live.requests()) {
                s.live.catchUp(Duration.ofSeconds(5));  // late duplicates, if any, before the fleet stops
                progress("%s: drained: %d/%d answered", s.name, s.live.answered(), s.live.requests());
                return;
            }
            if (System.nanoTime() - lastProgressNs > idleLimitNs) {
                s.problems.add("drain given up: no new result for " + settings.drainIdleSeconds() + " s with "
                        + answered + " of " + s.live.requests() + " requests answered; slots " + s.fleet.slots());
                progress("%s: DRAIN GIVEN UP at %d/%d", s.name, answered, s.live.requests());
                return;
            }
            if (System.nanoTime() - lastPrintNs > 10_000_000_000L) {
                lastPrintNs = System.nanoTime();
                progress("%s: draining, %d/%d answered", s.name, answered, s.live.requests());
            }
        }
    }

    /** The mutable state of one running scenario; waits keep the live checker reading. */
    private final class Scenario {
        final String name;
        final List<ScenarioOutcome.Recovery> recoveries = new ArrayList<>();
        final List<String> problems = new ArrayList<>();
        final Map<String, String> notes = new LinkedHashMap<>();
        FleetProcess fleet;
        LoadPublisher publisher;
        ResultChecker live;
        int expectedWorkers;

        Scenario(String name) {
            this.name = name;
        }

        /** Sleeps {@code seconds} while the checker keeps reading. */
        void pause(double seconds) {
            long until = System.nanoTime() + (long) (seconds * 1e9);
            while (System.nanoTime() < until) {
                live.poll(Duration.ofMillis(Math.max(1, Math.min(250, (until - System.nanoTime()) / 1_000_000))));
            }
        }

        int awaitSlots() {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                int n = fleet.slots().size();
                if (n > 0) {
                    return n;
                }
                if (!fleet.supervisorAlive()) {
                    throw new IllegalStateException("fleet up exited; see " + fleet.log());
                }
                pause(0.2);
            }
            throw new IllegalStateException("fleet up wrote no state within " + START_TIMEOUT + "; see " + fleet.log());
        }

        /** Seconds until every worker is ready, NaN on timeout. */
        double awaitReady(Duration timeout) {
            long start = System.nanoTime();
            while (System.nanoTime() - start < timeout.toNanos()) {
                if (fleet.allReady(expectedWorkers)) {
                    return (System.nanoTime() - start) / 1e9;
                }
                pause(0.2);
            }
            return Double.NaN;
        }

        /** Seconds from now until {@code id} runs another process than {@code oldPid} and every worker is ready. */
        double awaitRestarted(String id, long oldPid, Duration timeout) {
            long start = System.nanoTime();
            while (System.nanoTime() - start < timeout.toNanos()) {
                long pid = fleet.slot(id).map(FleetProcess.Slot::pid).orElse(-1L);
                if (pid > 0 && pid != oldPid && fleet.allReady(expectedWorkers)) {
                    return (System.nanoTime() - start) / 1e9;
                }
                pause(0.2);
            }
            return Double.NaN;
        }

        /** Waits (reading answers) until {@code done}; false on timeout. */
        boolean awaitUntil(java.util.function.BooleanSupplier done, Duration timeout) {
            long start = System.nanoTime();
            while (System.nanoTime() - start < timeout.toNanos()) {
                if (done.getAsBoolean()) {
                    return true;
                }
                pause(0.2);
            }
            return false;
        }

        /** Seconds from now until a request published after {@code publishedAfterMs} has an answer; NaN on timeout. */
        double awaitAnswerToRequestAfter(long publishedAfterMs, Duration timeout) {
            long start = System.nanoTime();
            while (System.nanoTime() - start < timeout.toNanos()) {
                if (live.answeredPublishedAfter(publishedAfterMs)) {
                    return (System.nanoTime() - start) / 1e9;
                }
                pause(0.2);
            }
            return Double.NaN;
        }

        void awaitAnswered(String prefix, int count, Duration timeout) {
            long start = System.nanoTime();
            while (System.nanoTime() - start < timeout.toNanos() && live.answerTimes(prefix).size() < count) {
                pause(0.5);
            }
        }
    }

    // ---- evidence

    private static final Pattern EXIT = Pattern.compile("event=worker_exited .*exit_code=(-?\\d+)");

    /** How often each worker exit code occurred (137 = our SIGKILL; anything else the worker did on its own). */
    static Map<String, Integer> exitCodes(List<String> events) {
        Map<String, Integer> codes = new TreeMap<>();
        for (String e : events) {
            Matcher m = EXIT.matcher(e);
            if (m.find()) {
                codes.merge(m.group(1), 1, Integer::sum);
            }
        }
        return codes;
    }

    private static final Pattern NOTABLE = Pattern.compile("\\b(WARN|ERROR|FATAL|SEVERE)\\b|Exception|hs_err|SIGSEGV|stopped:");

    /** The broker's log and, when the failover scenario ran, its cluster nodes' logs. */
    private List<Path> kafkaLogs() {
        List<Path> logs = new ArrayList<>(List.of(settings.runDir().resolve("broker.log")));
        FailoverCluster.logs(clusterDir()).stream().filter(Files::exists).forEach(logs::add);
        return logs;
    }

    /** The worker logs of a fleet (fleet up names them after the worker ids). */
    static List<Path> workerLogs(FleetProcess fleet) {
        try (Stream<Path> logs = Files.list(fleet.runDir())) {
            return logs.filter(p -> p.toString().endsWith(".log") && !p.endsWith("fleet-up.log")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * Log lines worth reading (warnings, errors, exceptions), grouped by their shape (digits blanked, so
     * that repeats with other timestamps, pids or offsets count as one), most frequent first, each with
     * its first occurrence.
     */
    static List<String> notableLines(List<Path> logs) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        Map<String, String> example = new LinkedHashMap<>();
        for (Path log : logs) {
            try {
                for (String line : Files.readAllLines(log)) {
                    if (NOTABLE.matcher(line).find()) {
                        String shape = line.replaceAll("\\d+", "N");
                        shape = shape.length() > 300 ? shape.substring(0, 300) : shape;
                        counts.merge(shape, 1, Integer::sum);
                        example.putIfAbsent(shape, log.getFileName() + ": " + (line.length() > 400 ? line.substring(0, 400) + " ..." : line));
                    }
                }
            } catch (IOException e) {
                counts.put("cannot read " + log, 1);
                example.put("cannot read " + log, "(cannot read " + log + ": " + e.getMessage() + ")");
            }
        }
        return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()))
                .limit(20).map(e -> e.getValue() + "× " + example.get(e.getKey())).toList();
    }

    // ---- helpers

    private void createTopics(String in, String out) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(in, INPUT_PARTITIONS, (short) 1), new NewTopic(out, RESULT_PARTITIONS,
                    (short) 1))).all().get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private static long shmFsUsed() {
        try {
            var store = Files.getFileStore(Path.of("/dev/shm"));
            return store.getTotalSpace() - store.getUnallocatedSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    /** A free port P with P + 1 free too (the broker's controller, the second worker's metrics). */
    private static int freePortPair() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                port = s.getLocalPort();
            }
            if (port < 65534 && free(port + 1)) {
                return port;
            }
        }
        throw new IOException("no pair of free ports found");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void progress(String format, Object... args) {
        System.out.printf("[%7.1f s] %s%n", (System.nanoTime() - startNs) / 1e9, String.format(format, args));
        System.out.flush();
    }

    /** Stops the fleet, the broker and anything else left, and removes the run's shm directories. Idempotent. */
    private synchronized void cleanUp() {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        FleetProcess running = fleet;
        if (running != null) {
            System.out.println("chaos: stopping fleet up: " + running.stop());
        }
        if (broker != null) {
            broker.close();
        }
        stopCluster();
        List<Long> killed = children.killSurvivors();
        if (!killed.isEmpty()) {
            System.out.println("chaos: SIGKILLed leftover child processes " + killed);
        }
        for (Path dir : shmDirs) {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("chaos: cannot remove " + dir + ": " + e.getMessage());
        }
    }
}
