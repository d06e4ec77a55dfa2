package io.inferencefleet.benchmarks.peer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DJL peer's command line: {@code --key=value} flags, each validated; a bad one is an
 * {@link IllegalArgumentException} naming the flag and the value.
 */
record PeerSettings(String bootstrapServers, String inputTopic, String resultsTopic, String groupId, Path modelDir,
                    Path fileRoot, int threads, int mathThreads, String workerId) {

    static final List<String> FLAGS = List.of("bootstrap.servers", "input.topic", "results.topic", "group.id",
            "model.dir", "file.root", "threads", "math.threads", "worker.id");

    static PeerSettings parse(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 3) {
                throw new IllegalArgumentException("Invalid argument '" + arg + "': expected --key=value, keys " + FLAGS);
            }
            String key = arg.substring(2, eq);
            if (!FLAGS.contains(key)) {
                throw new IllegalArgumentException("Unknown flag --" + key + " (in '" + arg + "'); known: " + FLAGS);
            }
            if (flags.put(key, arg.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("Flag --" + key + " given twice");
            }
        }
        Path modelDir = Path.of(required(flags, "model.dir")).toAbsolutePath().normalize();
        for (String file : List.of("inference.pdmodel", "inference.pdiparams")) {
            if (!Files.isRegularFile(modelDir.resolve(file))) {
                throw new IllegalArgumentException("Invalid value '" + flags.get("model.dir") + "' for --model.dir: no "
                        + file + " in " + modelDir);
            }
        }
        Path fileRoot = Path.of(required(flags, "file.root"));
        if (!Files.isDirectory(fileRoot)) {
            throw new IllegalArgumentException("Invalid value '" + flags.get("file.root") + "' for --file.root: not a directory");
        }
        try {
            fileRoot = fileRoot.toRealPath();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("Invalid value '" + flags.get("file.root") + "' for --file.root: " + e, e);
        }
        int threads = positiveInt(flags, "threads", Runtime.getRuntime().availableProcessors(), 256);
        int mathThreads = positiveInt(flags, "math.threads", 1, 64);
        return new PeerSettings(required(flags, "bootstrap.servers"), required(flags, "input.topic"),
                required(flags, "results.topic"), required(flags, "group.id"), modelDir, fileRoot, threads, mathThreads,
                flags.getOrDefault("worker.id", "djl-peer"));
    }

    private static String required(Map<String, String> flags, String key) {
        String value = flags.get(key);
        if (value == null) {
            throw new IllegalArgumentException("Missing required flag --" + key + "=...");
        }
        if (value.isBlank()) {
            throw new IllegalArgumentException("Invalid value '" + value + "' for --" + key + ": must not be empty");
        }
        return value.trim();
    }

    private static int positiveInt(Map<String, String> flags, String key, int defaultValue, int max) {
        String value = flags.get(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed >= 1 && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("Invalid value '" + value + "' for --" + key + ": must be an integer 1.." + max);
    }

    /** One line of {@code key=value} pairs for the start log. */
    String describe() {
        return "bootstrap.servers=" + bootstrapServers + " input.topic=" + inputTopic + " results.topic=" + resultsTopic
                + " group.id=" + groupId + " model.dir=" + modelDir + " file.root=" + fileRoot + " threads=" + threads
                + " math.threads=" + mathThreads + " worker.id=" + workerId;
    }
}
