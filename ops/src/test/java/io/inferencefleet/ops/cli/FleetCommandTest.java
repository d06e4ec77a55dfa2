package io.inferencefleet.ops.cli;

import io.inferencefleet.testing.SharedImages;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class FleetCommandTest {
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

    @Test
    void generatesAModelThatInspectValidates() {
        Path dir = temp.resolve("tiny");
        assertEquals(0, fleet("model", "generate", "tiny", "--dir", dir.toString(), "--seed", "3"), err.toString());
        assertTrue(Files.isRegularFile(dir.resolve("inference.pdmodel")));
        assertTrue(Files.isRegularFile(dir.resolve("inference.yml")));

        assertEquals(0, fleet("model", "inspect", dir.toString()), err.toString());
        String report = out.toString();
        assertTrue(report.contains("input    x[-1, 3, 224, 224]:FP32"), report);
        assertTrue(report.contains("output   softmax_0.tmp_0[-1, 10]:FP32"), report);
        assertTrue(report.contains("valid    yes"), report);
    }

    @Test
    void classifiesEverySharedImageWithOneLineEach() throws Exception {
        Path model = temp.resolve("tiny");
        assertEquals(0, fleet("model", "generate", "tiny", "--dir", model.toString()));
        Path images = sharedImages();
        long count;
        try (var files = Files.list(images)) {
            count = files.count();
        }
        assertEquals(0, fleet("classify", "--model", model.toString(), images.toString()), err.toString());
        String output = out.toString();
        assertTrue(output.contains("synthetic weights"), output);
        long lines = output.lines().filter(l -> l.matches("^\\S+\\s+(OK|ERROR)\\s.*")).count();
        assertEquals(count, lines, output);
        assertTrue(output.lines().anyMatch(l -> l.startsWith("truncated.jpg") && l.contains("ERROR truncated_image")), output);
        assertTrue(output.contains(count + " images: " + (count - 1) + " OK, 1 ERROR"), output);
    }

    @Test
    void classifyRunsTheEngineAskedForAndSaysWhichOneRan() throws Exception {
        Path model = temp.resolve("tiny-engine");
        assertEquals(0, fleet("model", "generate", "tiny", "--dir", model.toString()), err.toString());
        Path apple = sharedImages().resolve("apple.jpg");
        assertEquals(0, fleet("classify", "--model", model.toString(), "--engine", "onnxruntime", apple.toString()),
                err.toString());
        assertTrue(out.toString().contains("engine: onnxruntime (asked for)"), out.toString());
        assertTrue(out.toString().contains("1 images: 1 OK"), out.toString());
        assertEquals(2, fleet("classify", "--model", model.toString(), "--engine", "tensorrt", apple.toString()));
        assertTrue(err.toString().contains("Invalid value 'tensorrt' for predictor.engine (from --engine)"), err.toString());
    }

    static Path sharedImages() {
        return SharedImages.dir();
    }

    @Test
    void anUnknownModelNameIsAUsageErrorListingTheChoices() {
        assertEquals(2, fleet("model", "generate", "vgg16"));
        assertTrue(err.toString().contains("tiny, resnet50"), err.toString());
    }

    @Test
    void aDirectoryWithoutAModelFailsWithOneLineNamingIt() {
        assertEquals(1, fleet("model", "inspect", temp.toString()));
        assertTrue(err.toString().startsWith("fleet: " + temp + ": no model file found"), err.toString());
    }

    @Test
    void aCorruptParamsFileFailsInspection() throws Exception {
        Path dir = temp.resolve("tiny");
        assertEquals(0, fleet("model", "generate", "tiny", "--dir", dir.toString()));
        Path params = dir.resolve("inference.pdiparams");
        byte[] bytes = Files.readAllBytes(params);
        Files.write(params, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        assertEquals(1, fleet("model", "inspect", dir.toString()));
        assertTrue(err.toString().contains(params.toString()), err.toString());
    }
}
