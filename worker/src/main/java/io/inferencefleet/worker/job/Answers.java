package io.inferencefleet.worker.job;

import io.inferencefleet.messages.ErrorCode;

/**
 * The one way every stage answers a job: OK with the model's scores, ERROR with a stable code, or
 * EXPIRED. Each job gets exactly one answer ({@link Job#claimAnswer()}); an implementation refuses a
 * second one (counting it) rather than publishing it. Thread-safe; never throws for a per-record
 * problem (a result too large for Kafka, say): that becomes the job's ERROR answer.
 */
public interface Answers {
    /** @param scores the model's output, of which the first {@code classes} are read before returning */
    void ok(Job job, float[] scores, int classes, double inferenceMs, double queueMs);

    void error(Job job, ErrorCode code, String message);

    /** The request's deadline ({@code deadlineMs}) had passed at {@code nowMs}. */
    void expired(Job job, long deadlineMs, long nowMs);
}
