package io.inferencefleet.paddle.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFilesTest {

    @TempDir
    Path dir;

    @Test
    void prefersPaddleClasInferenceFiles() throws IOException {
        touch("inference.pdmodel", "inference.pdiparams", "model.pdmodel", "model.pdiparams");
        ModelFiles files = ModelFiles.inDirectory(dir);
        assertEquals(dir.resolve("inference.pdmodel"), files.modelFile());
        assertEquals(dir.resolve("inference.pdiparams"), files.paramsFile());
    }

    @Test
    void fallsBackToModelFiles() throws IOException {
        touch("model.pdmodel", "model.pdiparams", "other.pdmodel", "other.pdiparams");
        assertEquals(dir.resolve("model.pdmodel"), ModelFiles.inDirectory(dir).modelFile());
    }

    @Test
    void acceptsTheOnlyModelWithItsSameStemParams() throws IOException {
        touch("ResNet50.pdmodel", "ResNet50.pdiparams", "readme.txt");
        ModelFiles files = ModelFiles.inDirectory(dir);
        assertEquals(dir.resolve("ResNet50.pdmodel"), files.modelFile());
        assertEquals(dir.resolve("ResNet50.pdiparams"), files.paramsFile());
    }

    @Test
    void reportsMissingParams() throws IOException {
        touch("inference.pdmodel");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelFiles.inDirectory(dir));
        assertTrue(e.getMessage().contains("inference.pdiparams"), e.getMessage());
    }

    @Test
    void reportsAmbiguousModels() throws IOException {
        touch("a.pdmodel", "a.pdiparams", "b.pdmodel", "b.pdiparams");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelFiles.inDirectory(dir));
        assertTrue(e.getMessage().contains("a.pdmodel") && e.getMessage().contains("b.pdmodel"), e.getMessage());
    }

    @Test
    void reportsWhatItLookedForInAnEmptyDirectory() {
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelFiles.inDirectory(dir));
        assertTrue(e.getMessage().startsWith(dir.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("inference.pdmodel") && e.getMessage().contains("model.pdmodel")
                && e.getMessage().contains("*.pdmodel"), e.getMessage());
    }

    @Test
    void rejectsAFileInsteadOfADirectory() throws IOException {
        touch("x");
        assertThrows(InvalidModelException.class, () -> ModelFiles.inDirectory(dir.resolve("x")));
    }

    @Test
    void exposesInferenceConfigOnlyWhenPresent() throws IOException {
        touch("inference.pdmodel", "inference.pdiparams");
        assertEquals(Optional.empty(), ModelFiles.inDirectory(dir).inferenceConfig());
        touch("inference.yml");
        assertEquals(Optional.of(dir.resolve("inference.yml").toAbsolutePath()),
                ModelFiles.inDirectory(dir).inferenceConfig());
    }

    private void touch(String... names) throws IOException {
        for (String name : names) {
            Files.write(dir.resolve(name), new byte[] {1});
        }
    }
}
