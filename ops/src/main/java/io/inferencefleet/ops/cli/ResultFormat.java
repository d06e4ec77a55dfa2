package io.inferencefleet.ops.cli;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.InferenceResult.Prediction;

/** How the commands show one result: the top-1 class and score, or the error code. */
final class ResultFormat {
    private ResultFormat() {}

    /** {@code class=638 score=0.0110}, {@code class=638 (tabby) score=0.8}, {@code error=not_found} or {@code -}. */
    static String outcome(InferenceResult result) {
        return switch (result.status()) {
            case OK -> {
                if (result.predictions().isEmpty()) {
                    yield "no predictions";
                }
                Prediction top = result.predictions().get(0);
                yield "class=" + top.classId() + (top.label() == null ? "" : " (" + top.label() + ")")
                        + String.format(" score=%.4f", top.score());
            }
            case ERROR -> "error=" + (result.error() == null ? "?" : result.error().code());
            case EXPIRED -> "deadline passed before inference";
        };
    }
}
