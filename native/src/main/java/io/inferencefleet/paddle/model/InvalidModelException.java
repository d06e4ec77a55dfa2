package io.inferencefleet.paddle.model;

import io.inferencefleet.paddle.PaddleException;

import java.nio.file.Path;

/**
 * A model or parameters file that must not be handed to Paddle: unreadable, malformed, or
 * inconsistent with its program. Detected in Java because Paddle 2.3.2 crashes the process
 * (SIGSEGV) on some malformed model files instead of throwing.
 *
 * <p>The message always starts with the offending file, followed by what is wrong.
 */
public class InvalidModelException extends PaddleException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public InvalidModelException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public InvalidModelException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that was rejected. */
    public Path file() {
        return file;
    }
}
