package io.inferencefleet.benchmarks.peer;

import io.inferencefleet.benchmarks.report.Flags;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The DJL peer's command line: {@code --key=value} flags, each validated; a bad one is an
 * {@link IllegalArgumentException} naming the flag and the value.
 */
record PeerSettings(String bootstrapServers, String inputTopic, String resultsTopic, String groupId, Path modelDir,
                    Path fileRoot, int threads, int mathThreads, String workerId) {

    static PeerSettings parse(String[] args) {
        Flags flags = Flags.parse(args, List.of("bootstrap.servers", "input.topic", "results.topic", "group.id", "model.dir",
                "file.root"), Map.of("threads", Integer.toString(Runtime.getRuntime().availableProcessors()),
                "math.threads", "1", "worker.id", "djl-peer"));
        Path modelDir = flags.path("model.dir").toAbsolutePath().normalize();
        for (String file : List.of("inference.pdmodel", "inference.pdiparams")) {
            if (!Files.isRegularFile(modelDir.resolve(file))) {
                throw new IllegalArgumentException("Invalid value '" + flags.get("model.dir") + "' for --model.dir: no "
                        + file + " in " + modelDir);
            }
        }
        Path fileRoot = flags.path("file.root");
        if (!Files.isDirectory(fileRoot)) {
            throw new IllegalArgumentException("Invalid value '" + flags.get("file.root") + "' for --file.root: not a directory");
        }
        try {
            fileRoot = fileRoot.toRealPath();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("Invalid value '" + flags.get("file.root") + "' for --file.root: " + e, e);
        }
        return new PeerSettings(flags.get("bootstrap.servers"), flags.get("input.topic"), flags.get("results.topic"),
                flags.get("group.id"), modelDir, fileRoot, atMost(flags, "threads", 256), atMost(flags, "math.threads", 64),
                flags.get("worker.id"));
    }

    private static int atMost(Flags flags, String name, int max) {
        int value = flags.positiveInt(name);
        if (value > max) {
            throw new IllegalArgumentException("Invalid value '" + value + "' for --" + name + ": must be an integer 1.." + max);
        }
        return value;
    }

    /** One line of {@code key=value} pairs for the start log. */
    String describe() {
        return "bootstrap.servers=" + bootstrapServers + " input.topic=" + inputTopic + " results.topic=" + resultsTopic
                + " group.id=" + groupId + " model.dir=" + modelDir + " file.root=" + fileRoot + " threads=" + threads
                + " math.threads=" + mathThreads + " worker.id=" + workerId;
    }
}
