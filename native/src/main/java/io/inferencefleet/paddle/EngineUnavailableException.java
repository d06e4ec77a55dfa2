package io.inferencefleet.paddle;

/**
 * The engine a {@link PredictorConfig} asked for is not the one Paddle built: typically ONNX Runtime
 * was asked for and paddle2onnx could not convert the program, so Paddle silently kept its own engine.
 * Nothing is left open when this is thrown.
 */
public final class EngineUnavailableException extends PaddleException {
    private static final long serialVersionUID = 1L;

    private final Engine requested;
    private final Engine built;

    EngineUnavailableException(Engine requested, Engine built, String why) {
        super("Engine " + requested.key() + " is not available for this model: " + why + " (built: " + built.key() + ")");
        this.requested = requested;
        this.built = built;
    }

    public Engine requested() {
        return requested;
    }

    public Engine built() {
        return built;
    }
}
