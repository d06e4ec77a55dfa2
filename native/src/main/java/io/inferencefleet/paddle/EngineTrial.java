package io.inferencefleet.paddle;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Engine {@code auto}: loads the model on both engines, times them against each other on this CPU and
 * keeps the faster one. Which engine wins depends on the machine (the CPUs these VMs get differ
 * from one session to the next) and on the model, so it is measured rather than assumed.
 *
 * <p>Each engine runs once to warm up, then {@code runs} times, alternating (P O P O ...) so that a
 * noisy neighbour slows both alike; the medians decide. The trial stops after three runs each when
 * the two engines' runs do not overlap at all. ONNX Runtime is kept only if its output
 * agrees with Paddle's within {@value #AGREEMENT}; if paddle2onnx cannot convert the model, Paddle's
 * engine is chosen without a race. The predictor returned is the caller's to close; the other one
 * is closed here. The trial adds one model load and at most {@code 2 * (runs + 1)} inferences to start-up.
 *
 * <pre>{@code
 * EngineTrial.Outcome chosen = EngineTrial.choose(config, new int[] {1, 3, 224, 224}, 3);
 * log.info("engine={} why={}", chosen.predictor().engine().key(), chosen.reason());
 * try (Predictor predictor = chosen.predictor()) { ... }
 * }</pre>
 */
public final class EngineTrial {
    /** Largest absolute output difference accepted between the engines (float32 both). */
    static final double AGREEMENT = 1e-4;
    /** Runs per engine after which a trial whose runs do not overlap stops early. */
    static final int DECISIVE_RUNS = 3;

    private EngineTrial() {}

    /** One engine's timed runs in milliseconds ({@code runsMs} empty when it could not be built). */
    public record Timing(Engine engine, List<Double> runsMs) {
        public double medianMs() {
            double[] sorted = runsMs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int mid = sorted.length / 2;
            return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }

    /** The predictor kept (the caller owns it), the figures, and why, in one line for the log. */
    public record Outcome(Predictor predictor, List<Timing> timings, String reason) {}

    /**
     * @param config the settings for both predictors; its {@link PredictorConfig#engine()} is ignored
     * @param inputShape the shape of input 0 for the trial runs (e.g. {@code [1, 3, 224, 224]})
     * @param runs timed runs per engine, at least 1
     * @throws PaddleException when Paddle's own engine cannot load the model either
     */
    public static Outcome choose(PredictorConfig config, int[] inputShape, int runs) {
        if (runs < 1) {
            throw new IllegalArgumentException("Invalid value " + runs + " for runs: must be at least 1");
        }
        Predictor paddle = Predictor.create(config.toBuilder().engine(Engine.PADDLE).build());
        Predictor ort;
        try {
            ort = Predictor.create(config.toBuilder().engine(Engine.ONNXRUNTIME).build());
        } catch (PaddleException e) {
            return new Outcome(paddle, List.of(new Timing(Engine.PADDLE, List.of()),
                    new Timing(Engine.ONNXRUNTIME, List.of())), "onnxruntime unavailable: " + e.getMessage());
        } catch (RuntimeException e) {
            paddle.close();
            throw e;
        }
        try {
            FloatBuffer input = trialInput(inputShape);
            float[] paddleOut = new float[outputFloats(paddle, input, inputShape)];
            float[] ortOut = new float[outputFloats(ort, input, inputShape)];
            List<Double> paddleMs = new ArrayList<>();
            List<Double> ortMs = new ArrayList<>();
            for (int i = 0; i < runs && !decided(paddleMs, ortMs); i++) {
                paddleMs.add(timedRun(paddle, input, inputShape, paddleOut));
                ortMs.add(timedRun(ort, input, inputShape, ortOut));
            }
            List<Timing> timings = List.of(new Timing(Engine.PADDLE, paddleMs), new Timing(Engine.ONNXRUNTIME, ortMs));
            double difference = maxDifference(paddleOut, ortOut);
            String figures = String.format("paddle median %.1f ms %s, onnxruntime median %.1f ms %s over %d alternating"
                    + " runs after one warm-up each, outputs differ by at most %.2g", timings.get(0).medianMs(),
                    rounded(paddleMs), timings.get(1).medianMs(), rounded(ortMs), paddleMs.size(), difference);
            boolean ortFaster = timings.get(1).medianMs() < timings.get(0).medianMs();
            if (difference > AGREEMENT) {
                return keep(paddle, ort, timings, "onnxruntime disagrees with paddle: " + figures);
            }
            return ortFaster ? keep(ort, paddle, timings, "onnxruntime is faster: " + figures)
                    : keep(paddle, ort, timings, "paddle is faster: " + figures);
        } catch (RuntimeException e) {
            ort.close();
            paddle.close();
            throw e;
        }
    }

    /**
     * After {@value #DECISIVE_RUNS} runs each, stop early when every run of one engine was faster than
     * every run of the other: more runs would not change the median's verdict, only cost start-up time.
     */
    private static boolean decided(List<Double> a, List<Double> b) {
        if (a.size() < DECISIVE_RUNS) {
            return false;
        }
        double maxA = a.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        double maxB = b.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        double minA = a.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double minB = b.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        return maxA < minB || maxB < minA;
    }

    private static Outcome keep(Predictor kept, Predictor other, List<Timing> timings, String reason) {
        other.close();
        // The loser's memory (weights, activations) went back to Paddle's process-wide allocator, which
        // keeps it: measured on ResNet-50, ~500 MiB stayed resident after Paddle's engine lost until this
        // call released it (RSS 1149 -> 646 MiB; ONNX Runtime alone: 614 MiB).
        kept.tryShrinkMemory();
        return new Outcome(kept, timings, reason);
    }

    /** Runs once (the warm-up) and returns the output size. */
    private static int outputFloats(Predictor predictor, FloatBuffer input, int[] shape) {
        predictor.setInput(0, input, shape);
        predictor.run();
        int floats = 1;
        for (int d : predictor.outputShape(0)) {
            floats *= d;
        }
        return floats;
    }

    private static double timedRun(Predictor predictor, FloatBuffer input, int[] shape, float[] output) {
        long start = System.nanoTime();
        predictor.setInput(0, input, shape);
        predictor.run();
        predictor.copyOutput(0, output);
        return (System.nanoTime() - start) / 1e6;
    }

    /** Image-like values (ImageNet-normalised pixels lie in about [-2.1, 2.6]); fixed seed. */
    private static FloatBuffer trialInput(int[] shape) {
        int n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        FloatBuffer buffer = ByteBuffer.allocateDirect(Math.multiplyExact(n, Float.BYTES)).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        SplittableRandom random = new SplittableRandom(12);
        for (int i = 0; i < n; i++) {
            buffer.put(i, (float) random.nextDouble(-2, 2));
        }
        return buffer;
    }

    private static double maxDifference(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    private static String rounded(List<Double> ms) {
        return ms.stream().map(v -> String.format("%.1f", v)).toList().toString();
    }
}
