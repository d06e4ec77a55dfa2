package io.inferencefleet.worker.publish;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.InferenceResult.ErrorInfo;
import io.inferencefleet.messages.InferenceResult.ModelRef;
import io.inferencefleet.messages.InferenceResult.Prediction;
import io.inferencefleet.messages.InferenceResult.Source;
import io.inferencefleet.messages.InferenceResult.Status;
import io.inferencefleet.messages.InferenceResult.Timings;
import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.worker.job.Job;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds the result of a job: the parts every result has (model, worker, source) plus its outcome. */
public final class ResultFactory {
    private final ModelRef model;
    private final String workerId;
    private final String inputTopic;
    private final List<String> labels;
    private final int defaultTopK;

    /** @param labels by class id, null where an id has none; empty without a label file */
    public ResultFactory(ModelRef model, String workerId, String inputTopic, List<String> labels, int defaultTopK) {
        this.model = model;
        this.workerId = workerId;
        this.inputTopic = inputTopic;
        this.labels = java.util.Collections.unmodifiableList(new ArrayList<>(labels));  // null where an id has no label
        this.defaultTopK = defaultTopK;
    }

    public InferenceResult ok(Job job, float[] scores, int classes, double inferenceMs, double queueMs) {
        int k = Math.min(classes, job.request().topKIfSet().orElse(defaultTopK));
        return new InferenceResult(id(job), Status.OK, model, topK(scores, classes, k),
                timings(job, queueMs, inferenceMs), workerId, source(job), null, attributes(job));
    }

    public InferenceResult error(Job job, ErrorCode code, String message) {
        return new InferenceResult(id(job), Status.ERROR, model, null, timings(job, Double.NaN, Double.NaN), workerId,
                source(job), new ErrorInfo(code.code(), message), attributes(job));
    }

    public InferenceResult expired(Job job, long deadlineMs, long nowMs) {
        return new InferenceResult(id(job), Status.EXPIRED, model, null, timings(job, Double.NaN, Double.NaN), workerId,
                source(job), new ErrorInfo(ErrorCode.DEADLINE_EXCEEDED.code(), "deadline " + deadlineMs + " passed "
                + (nowMs - deadlineMs) + " ms before inference"), attributes(job));
    }

    /** A small ERROR result in place of one Kafka refused: no echoed attributes. */
    public InferenceResult replacement(Job job, ErrorCode code, String message) {
        return new InferenceResult(id(job), Status.ERROR, model, null, timings(job, Double.NaN, Double.NaN), workerId,
                source(job), new ErrorInfo(code.code(), message), Map.of());
    }

    /** The {@code k} best classes, best first (a partial selection: k is small, classes may be 1000s). */
    List<Prediction> topK(float[] scores, int classes, int k) {
        int[] best = new int[k];
        int size = 0;
        for (int c = 0; c < classes; c++) {
            if (size < k) {
                best[size++] = c;
            } else if (scores[c] > scores[best[size - 1]]) {
                best[size - 1] = c;
            } else {
                continue;
            }
            for (int i = size - 1; i > 0 && scores[best[i]] > scores[best[i - 1]]; i--) {
                int t = best[i];
                best[i] = best[i - 1];
                best[i - 1] = t;
            }
        }
        List<Prediction> result = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            int c = best[i];
            result.add(new Prediction(c, scores[c], c < labels.size() ? labels.get(c) : null));
        }
        return result;
    }

    private static String id(Job job) {
        return job.request() != null ? job.request().id() : "unknown@" + job.partition() + ":" + job.offset();
    }

    private static Map<String, String> attributes(Job job) {
        return job.request() != null ? job.request().attributes() : Map.of();
    }

    private Source source(Job job) {
        return new Source(inputTopic, job.partition().partition(), job.offset());
    }

    private static Timings timings(Job job, double queueMs, double inferenceMs) {
        double totalMs = (System.nanoTime() - job.acceptedNs()) / 1e6;
        return new Timings(orNull(queueMs), orNull(job.fetchMs()), orNull(job.preprocessMs()), orNull(inferenceMs), totalMs);
    }

    private static Double orNull(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
