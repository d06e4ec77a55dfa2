package io.inferencefleet.benchmarks.paddle;

import io.inferencefleet.paddle.Predictor;
import java.nio.FloatBuffer;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;
import net.openhft.affinity.Affinity;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * The generated ResNet-50 through our JNI binding, on each engine ({@code paddle}, or Paddle's
 * {@code onnxruntime} backend): batch-1 latency for a given number of math threads, throughput of two
 * weight-sharing clones on two pinned threads, and model load time (ONNX Runtime's includes paddle2onnx).
 * Each JMH fork is a fresh JVM, so Paddle's process-wide math-thread pool never leaks between
 * configurations. {@link PaddleBenchmarkSuite} runs the configurations interleaved.
 */
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
public class ResNet50Benchmarks {

    /** One predictor with {@code mathThreads} CPU math threads, batch 1. */
    @State(Scope.Benchmark)
    public static class Single {
        @Param({"1", "2"})
        public int mathThreads;
        @Param({"paddle", "onnxruntime"})
        public String engine;

        Predictor predictor;
        FloatBuffer input;
        int[] shape;
        float[] output = new float[1000];

        @Setup(Level.Trial)
        public void create() {
            predictor = Predictor.create(BenchModels.config("resnet50", mathThreads, engine));
            shape = BenchModels.shape(predictor, 1);
            input = BenchModels.input(shape);
        }

        @TearDown(Level.Trial)
        public void close() {
            predictor.close();
        }
    }

    /** The original predictor that the per-thread clones share weights with. */
    @State(Scope.Benchmark)
    public static class Original {
        @Param({"paddle", "onnxruntime"})
        public String engine;

        Predictor predictor;

        @Setup(Level.Trial)
        public void create() {
            predictor = Predictor.create(BenchModels.config("resnet50", 1, engine));
        }

        @TearDown(Level.Trial)
        public void close() {
            predictor.close();
        }
    }

    /** A clone per benchmark thread, created after the thread is pinned to its own CPU. */
    @State(Scope.Thread)
    public static class PinnedClone {
        Predictor predictor;
        FloatBuffer input;
        int[] shape;
        float[] output = new float[1000];

        @Setup(Level.Trial)
        public void create(Original original, ThreadParams thread) {
            BitSet cpu = new BitSet();
            cpu.set(thread.getThreadIndex() % Runtime.getRuntime().availableProcessors());
            Affinity.setAffinity(cpu);
            predictor = original.predictor.cloneSharingWeights();
            shape = BenchModels.shape(predictor, 1);
            input = BenchModels.input(shape);
        }

        @TearDown(Level.Trial)
        public void close() {
            predictor.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public float latencyBatch1(Single s) {
        s.predictor.setInput(0, s.input, s.shape);
        s.predictor.run();
        s.predictor.copyOutput(0, s.output);
        return s.output[0];
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public float twoClonesThroughput(PinnedClone c) {
        c.predictor.setInput(0, c.input, c.shape);
        c.predictor.run();
        c.predictor.copyOutput(0, c.output);
        return c.output[0];
    }

    /** The engine {@link #modelLoad} loads the model for. */
    @State(Scope.Benchmark)
    public static class LoadedEngine {
        @Param({"paddle", "onnxruntime"})
        public String engine;
    }

    /** Java validation of both files, Paddle's load and IR passes (and paddle2onnx on ONNX Runtime), and close. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 10)
    public boolean modelLoad(LoadedEngine e) {
        try (Predictor predictor = Predictor.create(BenchModels.config("resnet50", 1, e.engine))) {
            return predictor.isClosed();
        }
    }
}
