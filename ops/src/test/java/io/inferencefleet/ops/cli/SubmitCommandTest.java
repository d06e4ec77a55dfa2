package io.inferencefleet.ops.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Argument validation of {@code fleet submit} and {@code fleet results}: usage errors (exit 2) before any Kafka connection. */
class SubmitCommandTest {
    @TempDir
    Path temp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int fleet(String... args) {
        CommandLine cli = FleetCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    private String image() throws Exception {
        return Files.writeString(temp.resolve("a.jpg"), "x").toString();
    }

    @Test
    void aRateThatIsNotPositiveIsAUsageError() throws Exception {
        String image = image();
        for (String rate : new String[] {"0", "-5", "NaN", "Infinity"}) {
            assertEquals(2, fleet("submit", "--rate", rate, image), rate);
            assertTrue(err.toString().contains("Invalid value " + Double.valueOf(rate) + " for --rate"), err.toString());
        }
    }

    @Test
    void aRateThatIsNotANumberIsAUsageError() throws Exception {
        assertEquals(2, fleet("submit", "--rate", "fast", image()));
        assertTrue(err.toString().contains("--rate"), err.toString());
    }

    @Test
    void aTimeoutTopKAndDeadlineAreChecked() throws Exception {
        String image = image();
        assertEquals(2, fleet("submit", "--wait", "--timeout-ms", "0", image));
        assertTrue(err.toString().contains("for --timeout-ms"), err.toString());
        assertEquals(2, fleet("submit", "--top-k", "1001", image));
        assertTrue(err.toString().contains("for --top-k"), err.toString());
        assertEquals(2, fleet("submit", "--deadline-ms", "-1", image));
        assertTrue(err.toString().contains("for --deadline-ms"), err.toString());
    }

    @Test
    void nothingToSubmitIsAUsageError() throws Exception {
        assertEquals(2, fleet("submit"));
        assertTrue(err.toString().contains("nothing to submit"), err.toString());
        Path emptyDir = Files.createDirectories(temp.resolve("empty"));
        assertEquals(2, fleet("submit", emptyDir.toString()));
    }

    @Test
    void aMissingFileIsAUsageErrorNamingIt() {
        assertEquals(2, fleet("submit", temp.resolve("missing.jpg").toString()));
        assertTrue(err.toString().contains("missing.jpg: no such file or directory"), err.toString());
    }

    @Test
    void anUnreachableBrokerStopsAtTheFirstFailureInsteadOfWaitingOncePerRequest() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("three"));
        for (String name : new String[] {"a.jpg", "b.jpg", "c.jpg"}) {
            Files.writeString(dir.resolve(name), name);
        }
        assertEquals(1, fleet("submit", "--no-progress", "--bootstrap-servers", "127.0.0.1:1", "-X", "max.block.ms=300",
                dir.toString()));
        assertTrue(err.toString().contains("FAILED"), err.toString());
        assertTrue(err.toString().contains("0 requests published to images") && err.toString().contains("1 failed, 2 not sent"),
                err.toString());
    }

    @Test
    void resultsRefusesAMaxBelowOne() {
        assertEquals(2, fleet("results", "--max", "0"));
        assertTrue(err.toString().contains("Invalid value 0 for --max"), err.toString());
    }

    @Test
    void bothCommandsAreListedInTheHelp() {
        assertEquals(0, fleet("--help"));
        assertTrue(out.toString().contains("submit"), out.toString());
        assertTrue(out.toString().contains("results"), out.toString());
    }
}
