package io.inferencefleet.ops.fleet;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * What {@code fleet up} writes to {@code <run dir>/state.json} and {@code fleet status} reads: the
 * supervisor, the group the workers share, and one entry per worker slot. Rewritten (atomically)
 * on every supervisor event. Times are ISO-8601 strings. Holds no Kafka security settings.
 */
public record FleetState(long supervisorPid, String startedAt, String host, String bootstrapServers, String groupId,
                         String inputTopic, List<Worker> workers) {
    public static final String FILE_NAME = "state.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** One worker slot; {@code pid} is -1 while no process runs (backoff, given up, stopped). */
    public record Worker(String id, int node, String cpus, long pid, int metricsPort, String startedAt, int restarts,
                         String state, Integer lastExitCode, String log) {}

    public FleetState {
        workers = List.copyOf(workers);
    }

    public void write(Path runDir) {
        try {
            Files.createDirectories(runDir);
            Path temp = Files.createTempFile(runDir, FILE_NAME, ".tmp");
            JSON.writeValue(temp.toFile(), this);
            Files.move(temp, runDir.resolve(FILE_NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + runDir.resolve(FILE_NAME), e);
        }
    }

    /** Reads the state; the error says to start {@code fleet up} when there is none. */
    public static FleetState read(Path runDir) {
        Path file = runDir.resolve(FILE_NAME);
        try {
            return JSON.readValue(file.toFile(), FleetState.class);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new IllegalStateException("no fleet state in " + runDir.toAbsolutePath() + " (is `fleet up` running"
                    + " with this --run-dir?)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public boolean supervisorAlive() {
        return ProcessHandle.of(supervisorPid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** JSON of any value (for {@code --json} output). */
    public static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
