package io.inferencefleet.shm;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Starts a test main class in another JVM with the project's JVM flags ({@code @jvm.options}). */
final class ForkedQueueJvm {
    private ForkedQueueJvm() {}

    static Process start(Class<?> mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        String jvmOptions = System.getProperty("fleet.jvm.options");
        if (jvmOptions != null) {
            command.add("@" + Path.of(jvmOptions).toAbsolutePath());
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }
}
