package io.inferencefleet.ops.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the CLI's log lines go. The logging backend is slf4j-simple ({@code simplelogger.properties}
 * in this module: key=value events at INFO from our code, WARN from libraries, on stderr); it reads its
 * settings once, when the first logger is created, and a system property overrides the file. So a
 * command that wants its log elsewhere says so before anything logs: {@link FleetCommand}'s execution
 * strategy calls {@link #toFile} after parsing the command line and before running the command.
 */
final class LogDestination {
    /** slf4j-simple's setting: "System.err", "System.out" or a file path. */
    static final String LOG_FILE_PROPERTY = "org.slf4j.simpleLogger.logFile";

    private LogDestination() {}

    /** Sends every log line of this JVM to {@code file} (created or truncated) instead of stderr. */
    static void toFile(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the directory of the log file " + file, e);
        }
        System.setProperty(LOG_FILE_PROPERTY, file.toAbsolutePath().toString());
    }
}
