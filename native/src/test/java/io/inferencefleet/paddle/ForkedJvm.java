package io.inferencefleet.paddle;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test classpath in a fresh JVM with the project's JVM flags. Used where
 * process-wide native state matters: a library that failed or succeeded to load cannot be unloaded,
 * and Paddle's math-thread pool is per process.
 */
final class ForkedJvm {
    private ForkedJvm() {}

    record Result(int exitCode, String output) {}

    static Result run(Class<?> mainClass, List<String> jvmArgs, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        String jvmOptions = System.getProperty("fleet.jvm.options");
        if (jvmOptions != null) {
            command.add("@" + Path.of(jvmOptions).toAbsolutePath());
        }
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("forked JVM timed out: " + command);
        }
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }
}
