package io.inferencefleet.benchmarks.chaos;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code ./fleet} command line as a child process: {@code java @jvm.options -Dfleet.home=ROOT
 * -jar ops/target/fleet.jar ARGS}, which is what the {@code ./fleet} launcher runs once the build is
 * up to date (the launcher itself would rebuild the project whenever a source is newer than the jar).
 * The child is the JVM itself, so SIGKILL reaches the process under test and not a shell.
 */
final class FleetCli {
    private final Path root;
    private final Path jar;
    private final Path jvmOptions;

    private FleetCli(Path root) {
        this.root = root;
        this.jar = root.resolve("ops/target/fleet.jar");
        this.jvmOptions = root.resolve("jvm.options");
    }

    /** The project at {@code root}; fails naming what is missing. */
    static FleetCli at(Path root) {
        FleetCli cli = new FleetCli(root.toAbsolutePath().normalize());
        for (Path required : List.of(cli.jar, cli.jvmOptions)) {
            if (!Files.isRegularFile(required)) {
                throw new IllegalStateException(required + " not found (build with: mvn -o -q install -DskipTests)");
            }
        }
        return cli;
    }

    List<String> command(List<String> args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + jvmOptions, "-Dfleet.home=" + root, "-jar", jar.toString()));
        command.addAll(args);
        return command;
    }

    /** The project's {@code jvm.options}, which every JVM of the fleet starts with. */
    Path jvmOptions() {
        return jvmOptions;
    }

    Path root() {
        return root;
    }
}
