package io.inferencefleet.paddle.model.synthetic;

import io.inferencefleet.paddle.model.ModelFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Synthetic models with real topologies and deterministic random weights, for tests and benchmarks
 * that need a Paddle model without downloading one.
 *
 * <ul>
 *   <li>{@value #TINY}: a small CNN (conv-bn-relu, residual add, max/avg/global pooling, fc,
 *       softmax over 10 classes) on {@code [-1, 3, 224, 224]};</li>
 *   <li>{@value #RESNET50}: ResNet-50 v1.5, 25,557,032 parameters, softmax over 1000 classes.</li>
 * </ul>
 *
 * <pre>{@code
 * ModelFiles files = BuiltinModels.generate("resnet50", dir, 42);
 * }</pre>
 */
public final class BuiltinModels {
    public static final String TINY = "tiny";
    public static final String RESNET50 = "resnet50";

    private BuiltinModels() {
    }

    public static List<String> names() {
        return List.of(TINY, RESNET50);
    }

    /** Builds the named model in memory. */
    public static BuiltModel build(String name, long seed) {
        return architecture(name).apply(SyntheticWeights.seeded(seed));
    }

    /**
     * Writes {@code inference.pdmodel}, {@code inference.pdiparams} and {@code inference.yml} into
     * {@code dir} (created if needed), replacing existing files. The same name and seed always give
     * the same bytes.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static ModelFiles generate(String name, Path dir, long seed) throws IOException {
        ModelFiles files = build(name, seed).writeTo(dir, "inference");
        InferenceConfigWriter.write(dir.resolve(ModelFiles.INFERENCE_CONFIG_NAME), name, seed);
        return files;
    }

    private static Function<WeightInitializer, BuiltModel> architecture(String name) {
        return switch (name) {
            case TINY -> Architectures::tiny;
            case RESNET50 -> Architectures::resnet50;
            default -> throw new IllegalArgumentException("unknown builtin model '" + name + "', known: " + names());
        };
    }
}
