package io.inferencefleet.benchmarks.chaos;

import io.inferencefleet.benchmarks.report.Flags;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The chaos run's settings, concluded once from {@code --name=value} flags ({@link Flags}): every
 * name, default and check is here, and everything else reads this record.
 *
 * @param scenarios which scenarios to run, in this order: {@code kill}, {@code broker}, {@code overload}, {@code failover}
 * @param kills worker SIGKILLs in the kill scenario
 * @param brokerKills broker SIGKILLs in the broker scenario
 * @param rate requests per second published during the kill, broker and failover scenarios ({@code auto}: by model)
 * @param overloadSeconds length of the overload phase
 * @param overloadFactor offered rate during overload, as a multiple of the measured (or given) sustainable rate
 * @param sustainableRate the fleet's sustainable rate, or 0 to measure it with a backlog first
 * @param model {@code tiny} or {@code resnet50}
 * @param perNode workers per NUMA node ({@code fleet up --per-node})
 * @param settleSeconds load between disruptions once the fleet is ready again (and before the first)
 * @param brokerDownSeconds how long the broker (failover: the killed Kafka node) stays dead before it is restarted
 * @param recoverySeconds a worker or broker not back (ready) within this is reported as not recovered
 * @param drainIdleSeconds the drain is given up when no new result arrived for this long
 * @param badEvery every Nth request is a bad record (bad JSON, missing file, truncated image, in turn)
 * @param guarantee the workers' {@code delivery.guarantee}: {@code at-least-once} (duplicates allowed) or
 *     {@code exactly-once} (the checker reads {@code read_committed}, and a duplicate fails the run)
 * @param workerSettings more {@code fleet up} worker settings (e.g. kafka.consumer.session.timeout.ms), for experiments
 * @param runDir where every child's directory and log goes (a fresh one under benchmarks/target)
 * @param out directory of the markdown report
 * @param command the command line, as printed in the report
 */
record ChaosSettings(List<String> scenarios, int kills, int brokerKills, double rate, int overloadSeconds,
                     double overloadFactor, double sustainableRate, String model, int perNode, int settleSeconds,
                     int brokerDownSeconds, int recoverySeconds, int drainIdleSeconds, int badEvery,
                     String guarantee, Map<String, String> workerSettings, Path runDir, Path out, String command) {
    static final List<String> SCENARIOS = List.of("kill", "broker", "overload", "failover");
    static final List<String> MODELS = List.of("tiny", "resnet50");
    static final List<String> GUARANTEES = List.of("at-least-once", "exactly-once");
    static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("scenarios", String.join(",", SCENARIOS));
        d.put("kills", "10");
        d.put("broker.kills", "2");
        d.put("rate", "auto");              // auto: 20 req/s with the tiny model, 4 with resnet50
        d.put("seconds", "60");             // the overload phase
        d.put("overload.factor", "3");
        d.put("overload.rate", "0");        // 0: measure the sustainable rate with a backlog first
        d.put("model", "tiny");
        d.put("per.node", "2");
        d.put("settle.seconds", "5");
        d.put("broker.down.seconds", "5");
        d.put("recovery.seconds", "120");
        d.put("drain.idle.seconds", "90");
        d.put("bad.every", "10");
        d.put("guarantee", "at-least-once");  // the workers' delivery.guarantee
        d.put("worker.settings", "");       // more worker settings for every scenario: key=value;key=value
        d.put("run.dir", "");               // default: benchmarks/target/chaos-<date-time>
        d.put("out", "benchmarks/results");
        d.put("command", "benchmarks/run-chaos.sh");
        return d;
    }

    static String usage() {
        return "Usage: benchmarks/run-chaos.sh [--name=value ...]; names and defaults:\n" + DEFAULTS.entrySet().stream()
                .map(e -> "  --" + e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n"));
    }

    /** @throws IllegalArgumentException "Invalid value X for NAME: why" */
    static ChaosSettings parse(String[] args) {
        Flags flags = Flags.parse(args, List.of(), DEFAULTS);
        List<String> scenarios = new ArrayList<>();
        for (String s : flags.get("scenarios").split(",")) {
            String name = s.trim();
            if (!SCENARIOS.contains(name) || scenarios.contains(name)) {
                throw new IllegalArgumentException("Invalid value " + flags.get("scenarios") + " for --scenarios: each of "
                        + SCENARIOS + " at most once");
            }
            scenarios.add(name);
        }
        if (!MODELS.contains(flags.get("model"))) {
            throw new IllegalArgumentException("Invalid value " + flags.get("model") + " for --model: one of " + MODELS);
        }
        if (!GUARANTEES.contains(flags.get("guarantee"))) {
            throw new IllegalArgumentException("Invalid value " + flags.get("guarantee") + " for --guarantee: one of "
                    + GUARANTEES);
        }
        Path runDir = flags.get("run.dir").isBlank()
                ? Path.of("benchmarks/target/chaos-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))
                : flags.path("run.dir");
        String command = flags.get("command") + Arrays.stream(args).filter(a -> !a.startsWith("--command=")
                && !a.startsWith("--run.dir=")).map(a -> " " + a).collect(Collectors.joining());
        return new ChaosSettings(List.copyOf(scenarios), flags.positiveInt("kills"), nonNegative(flags, "broker.kills"),
                rate(flags), flags.positiveInt("seconds"), positive(flags, "overload.factor"),
                nonNegativeDouble(flags, "overload.rate"), flags.get("model"), flags.positiveInt("per.node"),
                flags.positiveInt("settle.seconds"), flags.positiveInt("broker.down.seconds"),
                flags.positiveInt("recovery.seconds"), flags.positiveInt("drain.idle.seconds"),
                flags.positiveInt("bad.every"), flags.get("guarantee"), workerSettings(flags.get("worker.settings")), runDir.toAbsolutePath(),
                flags.path("out"), command);
    }

    boolean exactlyOnce() {
        return guarantee.equals("exactly-once");
    }

    private static Map<String, String> workerSettings(String list) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String pair : list.split(";")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("Invalid value " + list + " for --worker.settings: expected key=value;key=value");
            }
            settings.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return java.util.Collections.unmodifiableMap(settings);
    }

    private static double rate(Flags flags) {
        if (!flags.get("rate").equals("auto")) {
            return positive(flags, "rate");
        }
        return flags.get("model").equals("tiny") ? 20 : 4;  // about a fifth of what two workers sustain here
    }

    private static int nonNegative(Flags flags, String name) {
        try {
            int value = Integer.parseInt(flags.get(name));
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("Invalid value " + flags.get(name) + " for --" + name + ": must be an integer >= 0");
    }

    private static double positive(Flags flags, String name) {
        double value = nonNegativeDouble(flags, name);
        if (value == 0) {
            throw new IllegalArgumentException("Invalid value " + flags.get(name) + " for --" + name + ": must be > 0");
        }
        return value;
    }

    private static double nonNegativeDouble(Flags flags, String name) {
        try {
            double value = Double.parseDouble(flags.get(name));
            if (value >= 0 && Double.isFinite(value)) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("Invalid value " + flags.get(name) + " for --" + name + ": must be a number >= 0");
    }
}
