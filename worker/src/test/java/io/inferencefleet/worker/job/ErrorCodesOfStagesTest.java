package io.inferencefleet.worker.job;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.worker.fetch.FetchStatus;
import io.inferencefleet.worker.preprocess.PreprocessStatus;
import org.junit.jupiter.api.Test;

/** Every failure status a stage reports is one of the stable {@link ErrorCode}s (the answer path maps them 1:1). */
class ErrorCodesOfStagesTest {
    @Test
    void everyFetchAndPreprocessFailureHasAnErrorCode() {
        for (FetchStatus status : FetchStatus.values()) {
            if (status != FetchStatus.OK) {
                assertTrue(ErrorCode.fromCode(status.code()).isPresent(), status + " has no ErrorCode");
            }
        }
        for (PreprocessStatus status : PreprocessStatus.values()) {
            if (status != PreprocessStatus.OK) {
                assertTrue(ErrorCode.fromCode(status.code()).isPresent(), status + " has no ErrorCode");
            }
        }
    }
}
