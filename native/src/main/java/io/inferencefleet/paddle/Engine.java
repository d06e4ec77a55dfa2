package io.inferencefleet.paddle;

import java.util.Locale;

/**
 * The inference engine behind a {@link Predictor}. Both come with Paddle Inference 2.3.2:
 * {@link #PADDLE} is its own executor (OpenBLAS kernels), {@link #ONNXRUNTIME} is its ONNX Runtime
 * 1.11 backend, to which Paddle converts the program with paddle2onnx when the predictor is created.
 * Which one actually runs is read from the predictor Paddle built ({@link Predictor#engine()}): Paddle
 * falls back to its own engine, with only a log line, when paddle2onnx cannot convert the program.
 */
public enum Engine {
    // Declaration order is the code the JNI shim returns (kEnginePaddle = 0, kEngineOnnxRuntime = 1).
    PADDLE,
    ONNXRUNTIME;

    /** The configuration word: {@code paddle} or {@code onnxruntime}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The engine named {@code key} ({@link #key()}, any case). */
    public static Engine fromKey(String key) {
        for (Engine engine : values()) {
            if (engine.key().equalsIgnoreCase(key.trim())) {
                return engine;
            }
        }
        throw new IllegalArgumentException("Unknown engine '" + key + "': must be paddle or onnxruntime");
    }

    static Engine fromCode(int code) {
        if (code < 0 || code >= values().length) {
            throw new PaddleException("The native binding reported unknown engine code " + code);
        }
        return values()[code];
    }
}
