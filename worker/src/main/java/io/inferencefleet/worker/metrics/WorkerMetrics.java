package io.inferencefleet.worker.metrics;

import io.inferencefleet.messages.InferenceResult;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The worker's Prometheus metrics, in their own registry (several workers can share a JVM in
 * tests). Recording is cheap and thread-safe; {@link MetricsServer} exposes them.
 */
public final class WorkerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("fleet_requests_total")
            .help("Results published, by status and error code").labelNames("status", "code").register(registry);
    private final Histogram stageSeconds = Histogram.builder().name("fleet_stage_seconds")
            .help("Time per pipeline stage").labelNames("stage")
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .register(registry);
    private final Histogram requestSeconds = Histogram.builder().name("fleet_request_seconds")
            .help("From the record's intake to its result, per request")
            .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
            .register(registry);
    private final Gauge inFlight = Gauge.builder().name("fleet_in_flight")
            .help("Requests accepted whose result is not yet acknowledged").register(registry);
    private final Gauge paused = Gauge.builder().name("fleet_partitions_paused")
            .help("1 while intake is paused by back-pressure").register(registry);
    private final Counter pauses = Counter.builder().name("fleet_intake_pauses_total")
            .help("Times intake paused its partitions at max.in.flight").register(registry);
    private final Counter resumes = Counter.builder().name("fleet_intake_resumes_total")
            .help("Times intake resumed its partitions at resume.in.flight").register(registry);
    private final Gauge lag = Gauge.builder().name("fleet_consumer_lag_records")
            .help("Largest consumer lag over the worker's partitions (Kafka records-lag-max)").register(registry);
    private final Gauge queued = Gauge.builder().name("fleet_lane_queued_jobs")
            .help("Jobs waiting for a lane's decoder").labelNames("lane").register(registry);
    private final Counter busy = Counter.builder().name("fleet_predictor_busy_seconds_total")
            .help("Time a predictor spent in Paddle").labelNames("predictor").register(registry);
    private final Counter agentErrors = Counter.builder().name("fleet_agent_errors_total")
            .help("Throwables caught in a decoder or predictor (each answered as internal_error when it held a job)")
            .labelNames("agent").register(registry);
    private final Counter duplicateAnswers = Counter.builder().name("fleet_duplicate_answers_total")
            .help("Second answers to one job, refused (a bug: the first answer stands)").register(registry);
    private final Counter commitFailures = Counter.builder().name("fleet_commit_failures_total")
            .help("Offset commits that failed (retried with the next commit)").register(registry);

    private final Counter transactions = Counter.builder().name("fleet_transactions_total")
            .help("Exactly-once transactions (results + offsets) by outcome: committed or aborted")
            .labelNames("outcome").register(registry);
    private final Histogram transactionSeconds = Histogram.builder().name("fleet_transaction_seconds")
            .help("Exactly-once: from a transaction's first result to its commit")
            .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10).register(registry);
    private final Histogram transactionCommitSeconds = Histogram.builder().name("fleet_transaction_commit_seconds")
            .help("Exactly-once: sending the offsets and committing (the intake waits this long)")
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5).register(registry);
    private final Histogram transactionResults = Histogram.builder().name("fleet_transaction_results")
            .help("Exactly-once: answers per committed transaction")
            .classicUpperBounds(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000).register(registry);

    public PrometheusRegistry registry() {
        return registry;
    }

    /** Counts a result the broker acknowledged and records its stage timings. */
    public void onResult(InferenceResult result) {
        String code = result.error() != null ? result.error().code() : "";
        requests.labelValues(result.status().name().toLowerCase(java.util.Locale.ROOT), code).inc();
        InferenceResult.Timings t = result.timingsMs();
        if (t != null) {
            observe("fetch", t.fetch());
            observe("preprocess", t.preprocess());
            observe("queue", t.queue());
            observe("inference", t.inference());
            if (t.total() != null) {
                requestSeconds.observe(t.total() / 1000.0);
            }
        }
    }

    public void predictorBusy(int predictor, double seconds) {
        busy.labelValues(Integer.toString(predictor)).inc(seconds);
    }

    public void agentError(String agent) {
        agentErrors.labelValues(agent).inc();
    }

    /** Errors counted for {@code agent} (e.g. {@code decoder-0}) so far. */
    public double agentErrors(String agent) {
        return agentErrors.labelValues(agent).get();
    }

    public void duplicateAnswer() {
        duplicateAnswers.inc();
    }

    public void commitFailed() {
        commitFailures.inc();
    }

    public void transactionCommitted(double seconds, double commitSeconds, int results) {
        transactions.labelValues("committed").inc();
        transactionSeconds.observe(seconds);
        transactionCommitSeconds.observe(commitSeconds);
        transactionResults.observe(results);
    }

    public void transactionAborted() {
        transactions.labelValues("aborted").inc();
    }

    /** Transactions with {@code outcome} (committed, aborted) so far. */
    public double transactions(String outcome) {
        return transactions.labelValues(outcome).get();
    }

    public void intake(int inFlightRequests, boolean isPaused, double maxLagRecords) {
        inFlight.set(inFlightRequests);
        paused.set(isPaused ? 1 : 0);
        if (!Double.isNaN(maxLagRecords)) {
            lag.set(maxLagRecords);
        }
    }

    public void paused() {
        pauses.inc();
    }

    public void resumed() {
        resumes.inc();
    }

    public void laneQueued(int lane, int jobs) {
        queued.labelValues(Integer.toString(lane)).set(jobs);
    }

    private void observe(String stage, Double millis) {
        if (millis != null) {
            stageSeconds.labelValues(stage).observe(millis / 1000.0);
        }
    }
}
