package io.inferencefleet.worker;

import io.inferencefleet.paddle.Engine;
import io.inferencefleet.paddle.EngineTrial;
import io.inferencefleet.paddle.EngineUnavailableException;
import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.worker.config.WorkerConfig;

/**
 * Loads the original predictor on the engine {@code predictor.engine} names, once at start-up:
 * {@code paddle} or {@code onnxruntime} as asked (ONNX Runtime unavailable for the model is a
 * configuration error naming the key), {@code auto} by timing both on this CPU ({@link EngineTrial}).
 * Shared by the worker and {@code fleet classify}.
 */
public final class PredictorLoader {
    /**
     * Most timed runs per engine for {@code auto}, after one warm-up each (the trial stops after three
     * when the engines' runs do not overlap). Five, not three: with other work on the machine single
     * runs varied by 2x (measured 292-683 ms for one engine), and a median of three followed the noise.
     * Measured start-up on ResNet-50 with the machine at load average ~27 on 2 vCPUs: auto 12.7-12.8 s
     * against 2.2-4.3 s for one engine (a second model load and the runs).
     */
    static final int TRIAL_RUNS = 5;

    private PredictorLoader() {}

    /** The predictor (the caller owns it) and why its engine was chosen, for the start-up log. */
    public record Loaded(Predictor predictor, String reason) {
        public Engine engine() {
            return predictor.engine();
        }
    }

    /**
     * @param engine {@code auto}, {@code paddle} or {@code onnxruntime} (validated by {@link WorkerConfig})
     * @param settings everything else of the predictor's configuration
     * @param inputShape input 0's shape for the {@code auto} trial, e.g. {@code [1, 3, 224, 224]}
     * @throws IllegalArgumentException naming {@code predictor.engine} when {@code onnxruntime} was
     *     asked for and cannot run this model
     */
    public static Loaded load(String engine, PredictorConfig.Builder settings, int[] inputShape) {
        if (engine.equals(WorkerConfig.ENGINE_AUTO)) {
            EngineTrial.Outcome outcome = EngineTrial.choose(settings.build(), inputShape, TRIAL_RUNS);
            return new Loaded(outcome.predictor(), "auto: " + outcome.reason());
        }
        Engine asked = Engine.fromKey(engine);
        try {
            return new Loaded(Predictor.create(settings.engine(asked).build()), "asked for");
        } catch (EngineUnavailableException e) {
            throw new IllegalArgumentException("Invalid value " + engine + " for " + WorkerConfig.PREDICTOR_ENGINE.name()
                    + ": " + e.getMessage() + "; use paddle or auto", e);
        }
    }
}
