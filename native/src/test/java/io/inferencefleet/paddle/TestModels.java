package io.inferencefleet.paddle;

import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.TensorSpec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The built-in models, generated once per build into {@code target/test-models} (seed 7) and shared
 * by every test and forked JVM. A directory appears only when complete (written aside, then moved).
 */
final class TestModels {
    static final long SEED = 7;

    private TestModels() {}

    static Path tiny() throws IOException {
        return ensure("tiny");
    }

    static Path resnet50() throws IOException {
        return ensure("resnet50");
    }

    static ModelFiles files(Path dir) {
        return ModelFiles.inDirectory(dir);
    }

    static PredictorConfig.Builder config(Path dir) {
        ModelFiles files = files(dir);
        return PredictorConfig.builder(files.modelFile(), files.paramsFile());
    }

    static synchronized Path ensure(String name) throws IOException {
        Path root = Path.of(System.getProperty("fleet.test.modelCache", "target/test-models"));
        Path dir = root.resolve(name + "-seed" + SEED);
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Files.createDirectories(root);
        Path staging = Files.createTempDirectory(root, name + ".staging");
        BuiltinModels.generate(name, staging, SEED);
        try {
            Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            deleteRecursively(staging);
        } catch (IOException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
            deleteRecursively(staging);  // another JVM won the race
        }
        return dir;
    }

    /** Input shape of {@code predictor}'s first input with dynamic dimensions set to {@code batch}. */
    static int[] batchShape(Predictor predictor, int batch) {
        TensorSpec input = predictor.inputs().get(0);
        int[] shape = new int[input.rank()];
        for (int axis = 0; axis < shape.length; axis++) {
            shape[axis] = input.dim(axis) < 0 ? batch : (int) input.dim(axis);
        }
        return shape;
    }

    static int elements(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
