package io.inferencefleet.paddle;

/**
 * A failure reported by Paddle Inference or detected before Paddle was called: a model that does not
 * load, an input of the wrong shape, a predictor that cannot be created. The message carries
 * Paddle's own text where Paddle produced one. The JVM stays healthy; whether the predictor can be
 * used again is documented on the method that threw.
 */
public class PaddleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PaddleException(String message) {
        super(message);
    }

    public PaddleException(String message, Throwable cause) {
        super(message, cause);
    }
}
