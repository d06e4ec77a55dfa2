package io.inferencefleet.benchmarks.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every process the chaos run started or saw (broker, {@code fleet up}, worker JVMs), by pid, so that
 * none outlives the run: {@link #killSurvivors} SIGKILLs whichever is still alive, and each pid is
 * also appended to {@code <run dir>/children.pids}, from which {@code run-chaos.sh} cleans up if
 * this JVM itself dies. A pid is only ever killed while its command line still names the run
 * directory, so a pid reused by an unrelated process after ours exited is left alone. Thread-safe.
 */
final class ChildProcesses {
    static final String PID_FILE = "children.pids";

    private final Path runDir;
    private final Set<Long> pids = new LinkedHashSet<>();

    ChildProcesses(Path runDir) {
        this.runDir = runDir;
    }

    /** Records a process (idempotent). */
    synchronized void add(long pid) {
        if (pid > 0 && pids.add(pid)) {
            try {
                Files.writeString(runDir.resolve(PID_FILE), pid + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** True while the process runs and is still ours (its command line names the run directory). */
    boolean isOurs(long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) {
            return false;
        }
        try {
            String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
            return cmdline.contains(runDir.toString());
        } catch (IOException e) {
            return false;  // gone meanwhile
        }
    }

    /** SIGKILLs every recorded process that is still alive and ours; returns the pids it killed. */
    List<Long> killSurvivors() {
        List<Long> snapshot;
        synchronized (this) {
            snapshot = List.copyOf(pids);
        }
        List<Long> killed = new java.util.ArrayList<>();
        for (long pid : snapshot) {
            if (isOurs(pid)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                killed.add(pid);
            }
        }
        return killed;
    }
}
