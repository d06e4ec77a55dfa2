package io.inferencefleet.benchmarks.paddle;

import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.paddle.model.TensorSpec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.paddle.model.ModelFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** The benchmark models and inputs: generated once into a directory shared by all JMH forks and harnesses. */
public final class BenchModels {
    static final String MODEL_DIR_PROPERTY = "fleet.bench.modelDir";
    static final long SEED = 42;

    private BenchModels() {}

    static Path modelRoot() {
        return Path.of(System.getProperty(MODEL_DIR_PROPERTY, "target/bench-models")).toAbsolutePath();
    }

    /** The model's files, generating them first if the directory does not hold them yet. */
    public static synchronized ModelFiles ensure(String name) {
        Path dir = modelRoot().resolve(name);
        try {
            if (!Files.isRegularFile(dir.resolve("inference.pdiparams"))) {
                Files.createDirectories(dir);
                return BuiltinModels.generate(name, dir, SEED);
            }
            return ModelFiles.inDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static PredictorConfig config(String name, int mathThreads) {
        return config(name, mathThreads, "paddle");
    }

    /** @param engine {@code paddle} or {@code onnxruntime} (Paddle's ONNX Runtime backend) */
    static PredictorConfig config(String name, int mathThreads, String engine) {
        ModelFiles files = ensure(name);
        return PredictorConfig.builder(files.modelFile(), files.paramsFile()).mathThreads(mathThreads)
                .engine(io.inferencefleet.paddle.Engine.fromKey(engine)).build();
    }

    /** The input shape with the dynamic batch dimension set. */
    static int[] shape(Predictor predictor, int batch) {
        TensorSpec input = predictor.inputs().get(0);
        int[] shape = new int[input.rank()];
        for (int axis = 0; axis < shape.length; axis++) {
            shape[axis] = input.dim(axis) < 0 ? batch : (int) input.dim(axis);
        }
        return shape;
    }

    /** A direct buffer of deterministic values in the range of normalised image pixels. */
    static FloatBuffer input(int[] shape) {
        int elements = 1;
        for (int d : shape) {
            elements *= d;
        }
        FloatBuffer buffer = ByteBuffer.allocateDirect(elements * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < elements; i++) {
            buffer.put(i, (float) random.nextDouble(-2.0, 2.0));
        }
        return buffer;
    }
}
