package io.inferencefleet.worker.job;

import io.inferencefleet.messages.ErrorCode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Answers that record each answer (and claim it, as the real publisher does), for agent tests. */
public final class RecordingAnswers implements Answers {
    /** One answer: outcome OK / ERROR / EXPIRED, the code for errors, the top score for OK. */
    public record Answer(Job job, String outcome, ErrorCode code, String message, float[] scores) {}

    private final List<Answer> answers = new ArrayList<>();
    private int refused;

    @Override
    public synchronized void ok(Job job, float[] scores, int classes, double inferenceMs, double queueMs) {
        record(new Answer(job, "OK", null, null, Arrays.copyOf(scores, classes)));
    }

    @Override
    public synchronized void error(Job job, ErrorCode code, String message) {
        record(new Answer(job, "ERROR", code, message, null));
    }

    @Override
    public synchronized void expired(Job job, long deadlineMs, long nowMs) {
        record(new Answer(job, "EXPIRED", ErrorCode.DEADLINE_EXCEEDED, null, null));
    }

    private void record(Answer answer) {
        if (answer.job().claimAnswer()) {
            answers.add(answer);
        } else {
            refused++;
        }
    }

    public synchronized List<Answer> answers() {
        return List.copyOf(answers);
    }

    /** Second answers to a job (a bug in the caller). */
    public synchronized int refused() {
        return refused;
    }
}
