package io.inferencefleet.paddle;

import java.nio.file.Files;
import java.nio.file.Path;

/** Checks model files in Java before Paddle opens them: Paddle crashes on some malformed files. */
final class ModelPreflight {
    private ModelPreflight() {}

    static void check(Path modelFile, Path paramsFile) {
        for (Path file : new Path[] {modelFile, paramsFile}) {
            if (!Files.isRegularFile(file)) {
                throw new PaddleException("Model file " + file + " does not exist or is not a regular file");
            }
        }
    }
}
