package io.inferencefleet.ops.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.testing.SharedImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fleet demo} prints only its own lines: the embedded broker's, the worker's and the libraries'
 * log lines go to {@code .fleet/demo.log} (before, they were interleaved with the results on the
 * terminal, on stderr). Runs the CLI in its own JVM, as {@code ./fleet} does, because the logging
 * backend reads its settings once per JVM.
 */
@Tag("slow")
class DemoCommandTest {
    /** Every line the demo itself prints (a header, a result, the summary, blank separators). */
    private static final List<Pattern> DEMO_LINES = List.of(
            Pattern.compile("(model|log|broker|worker|submit) +\\S.*"),
            Pattern.compile(""),
            Pattern.compile("\\S+\\s+(OK|ERROR|EXPIRED)\\s+.*\\d+ ms"),
            Pattern.compile("\\d+ images, \\d+ results \\(\\d+ OK, \\d+ ERROR/EXPIRED\\) in [\\d.]+ s"));

    @TempDir
    Path temp;

    @Test
    void withoutVerboseOnlyTheDemosLinesArePrintedAndTheLogGoesToItsFile() throws Exception {
        Path model = Files.createDirectories(temp.resolve("tiny"));
        BuiltinModels.generate("tiny", model, 1);
        Path images = Files.createDirectories(temp.resolve("images"));
        for (String name : List.of("apple.jpg", "truncated.jpg")) {
            Files.copy(SharedImages.dir().resolve(name), images.resolve(name));
        }
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), FleetCommand.class.getName(),
                "demo", "--model", model.toString(), "--predictors", "1", images.toString())
                .directory(temp.toFile())
                .redirectOutput(temp.resolve("stdout").toFile()).redirectError(temp.resolve("stderr").toFile()).start();
        assertTrue(process.waitFor(180, TimeUnit.SECONDS), "the demo ends");
        String stdout = Files.readString(temp.resolve("stdout"), StandardCharsets.UTF_8);
        String stderr = Files.readString(temp.resolve("stderr"), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), stdout + stderr);

        assertEquals("", stderr, "nothing but the demo's lines on the terminal");
        for (String line : stdout.lines().toList()) {
            assertTrue(DEMO_LINES.stream().anyMatch(p -> p.matcher(line).matches()), "not a demo line: '" + line + "'\n"
                    + stdout);
        }
        assertTrue(stdout.contains("2 images, 2 results (1 OK, 1 ERROR/EXPIRED)"), stdout);
        String log = Files.readString(temp.resolve(".fleet/demo.log"), StandardCharsets.UTF_8);
        assertTrue(log.contains("event=worker_started") && log.contains("QuorumController"),
                "the worker's and Kafka's log lines are in the log file:\n" + log);
    }
}
