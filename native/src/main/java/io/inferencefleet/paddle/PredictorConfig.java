package io.inferencefleet.paddle;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Immutable settings for {@link Predictor#create(PredictorConfig)}.
 *
 * <pre>{@code
 * PredictorConfig config = PredictorConfig.builder(dir.resolve("inference.pdmodel"),
 *                                                  dir.resolve("inference.pdiparams"))
 *         .mathThreads(1)
 *         .build();
 * }</pre>
 *
 * <p>Defaults: Paddle's own engine, 1 CPU math thread, IR optimisation on (Paddle fuses conv+bn, fc),
 * memory optimisation on, Paddle's informational logging off. With {@link Engine#ONNXRUNTIME} the
 * math threads are the ONNX Runtime session's intra-op threads (OpenBLAS is not used), and ONNX
 * Runtime's own graph optimisations are switched on.
 */
public final class PredictorConfig {
    /** Upper bound for {@link Builder#mathThreads(int)}; far above any sane per-predictor value. */
    public static final int MAX_MATH_THREADS = 256;

    private final Path modelFile;
    private final Path paramsFile;
    private final int mathThreads;
    private final boolean irOptim;
    private final boolean memoryOptim;
    private final boolean quietLogging;
    private final Engine engine;

    private PredictorConfig(Builder b) {
        this.modelFile = b.modelFile;
        this.paramsFile = b.paramsFile;
        this.mathThreads = b.mathThreads;
        this.irOptim = b.irOptim;
        this.memoryOptim = b.memoryOptim;
        this.quietLogging = b.quietLogging;
        this.engine = b.engine;
    }

    /** Starts a configuration for a model in Paddle's combined format ({@code .pdmodel} + {@code .pdiparams}). */
    public static Builder builder(Path modelFile, Path paramsFile) {
        return new Builder(modelFile, paramsFile);
    }

    public Path modelFile() {
        return modelFile;
    }

    public Path paramsFile() {
        return paramsFile;
    }

    /** Threads Paddle's CPU math library (OpenBLAS) uses inside one predictor's {@code run()}. */
    public int mathThreads() {
        return mathThreads;
    }

    public boolean irOptim() {
        return irOptim;
    }

    public boolean memoryOptim() {
        return memoryOptim;
    }

    public boolean quietLogging() {
        return quietLogging;
    }

    /** The engine asked for; {@link Predictor#create} fails rather than run another one. */
    public Engine engine() {
        return engine;
    }

    /** A copy of this configuration to change some settings. */
    public Builder toBuilder() {
        return new Builder(modelFile, paramsFile)
                .mathThreads(mathThreads).irOptim(irOptim).memoryOptim(memoryOptim).quietLogging(quietLogging).engine(engine);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PredictorConfig)) {
            return false;
        }
        PredictorConfig other = (PredictorConfig) o;
        return modelFile.equals(other.modelFile) && paramsFile.equals(other.paramsFile)
                && mathThreads == other.mathThreads && irOptim == other.irOptim
                && memoryOptim == other.memoryOptim && quietLogging == other.quietLogging && engine == other.engine;
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelFile, paramsFile, mathThreads, irOptim, memoryOptim, quietLogging, engine);
    }

    @Override
    public String toString() {
        return "PredictorConfig{modelFile=" + modelFile + ", paramsFile=" + paramsFile
                + ", mathThreads=" + mathThreads + ", irOptim=" + irOptim
                + ", memoryOptim=" + memoryOptim + ", quietLogging=" + quietLogging + ", engine=" + engine.key() + '}';
    }

    /** Collects settings; {@link #build()} validates them. */
    public static final class Builder {
        private final Path modelFile;
        private final Path paramsFile;
        private int mathThreads = 1;
        private boolean irOptim = true;
        private boolean memoryOptim = true;
        private boolean quietLogging = true;
        private Engine engine = Engine.PADDLE;

        private Builder(Path modelFile, Path paramsFile) {
            this.modelFile = Objects.requireNonNull(modelFile, "modelFile");
            this.paramsFile = Objects.requireNonNull(paramsFile, "paramsFile");
        }

        public Builder mathThreads(int mathThreads) {
            if (mathThreads < 1 || mathThreads > MAX_MATH_THREADS) {
                throw new IllegalArgumentException("Invalid value " + mathThreads
                        + " for mathThreads: must be between 1 and " + MAX_MATH_THREADS);
            }
            this.mathThreads = mathThreads;
            return this;
        }

        public Builder irOptim(boolean irOptim) {
            this.irOptim = irOptim;
            return this;
        }

        public Builder memoryOptim(boolean memoryOptim) {
            this.memoryOptim = memoryOptim;
            return this;
        }

        public Builder quietLogging(boolean quietLogging) {
            this.quietLogging = quietLogging;
            return this;
        }

        public Builder engine(Engine engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
            return this;
        }

        public PredictorConfig build() {
            return new PredictorConfig(this);
        }
    }
}
