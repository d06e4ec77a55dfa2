package io.inferencefleet.worker.metrics;

import io.inferencefleet.messages.InferenceResult;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The worker's Prometheus metrics, in their own registry (several workers can share a JVM in
 * tests), with the Prometheus client's JVM and process metrics beside them ({@code jvm_memory_*},
 * {@code jvm_gc_collection_seconds}, {@code jvm_threads_*}, {@code process_*}; the dashboard in
 * {@code ops/grafana} charts heap and GC from them). Recording is cheap and thread-safe;
 * {@link MetricsServer} exposes them.
 */
public final class WorkerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();

    {
        // Read at scrape time from the JVM's MXBeans and /proc/self; nothing is recorded in between. Not
        // JvmMetrics' JvmMemoryPoolAllocationMetrics: it counts from the JVM's GC notification thread, which is
        // not pinned, and the counter's exemplar sampler then starts the client's scheduler thread from there,
        // off the worker's NUMA node (WorkerPinningTest caught it).
        JvmThreadsMetrics.builder().register(registry);
        JvmBufferPoolMetrics.builder().register(registry);
        JvmClassLoadingMetrics.builder().register(registry);
        JvmCompilationMetrics.builder().register(registry);
        JvmGarbageCollectorMetrics.builder().register(registry);
        JvmMemoryMetrics.builder().register(registry);
        JvmRuntimeInfoMetric.builder().register(registry);
        ProcessMetrics.builder().register(registry);
    }

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
    private final Histogram batchSize = Histogram.builder().name("fleet_predictor_batch_size")
            .help("Tensors per predictor run (1 when batching is off or a tensor was alone)")
            .classicUpperBounds(1, 2, 4, 8, 16, 32, 64).register(registry);
    private final Counter agentErrors = Counter.builder().name("fleet_agent_errors_total")
            .help("Throwables caught in a decoder or predictor (each answered as internal_error when it held a job)")
            .labelNames("agent").register(registry);
    private final Counter duplicateAnswers = Counter.builder().name("fleet_duplicate_answers_total")
            .help("Second answers to one job, refused (a bug: the first answer stands)").register(registry);
    private final Gauge engine = Gauge.builder().name("fleet_predictor_engine")
            .help("1 for the inference engine the predictors run (as built by Paddle, not as asked)").labelNames("engine")
            .register(registry);
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
    private final Counter answeredBefore = Counter.builder().name("fleet_records_answered_before_total")
            .help("Exactly-once: records polled again whose results an earlier transaction committed ahead of an"
                    + " unanswered record (skipped, not answered twice)").register(registry);
    private final Histogram transactionResults = Histogram.builder().name("fleet_transaction_results")
            .help("Exactly-once: answers per committed transaction")
            .classicUpperBounds(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000).register(registry);
    /** Exports the fetcher's health, read at each scrape: stuck file reader threads and unexpected failures. */
    public void watchFetcher(java.util.function.IntSupplier stuckFileReaders, java.util.function.LongSupplier unexpected) {
        io.prometheus.metrics.core.metrics.GaugeWithCallback.builder().name("fleet_fetch_stuck_file_readers")
                .help("File reader threads blocked in the OS after their fetch gave up (a FIFO or a hung mount under a"
                        + " file root); when all are, file: fetches fail at once and /ready is 503")
                .callback(c -> c.call(stuckFileReaders.getAsInt())).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("fleet_fetch_unexpected_failures")
                .help("Fetches answered fetch_failed because of an exception the fetcher did not expect (a bug, or an"
                        + " Error such as OutOfMemoryError); should stay 0")
                .callback(c -> c.call(unexpected.getAsLong())).register(registry);
    }

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

    /** Results counted with {@code status} (lower case) and error {@code code} ("" for none) so far. */
    public double requests(String status, String code) {
        return requests.labelValues(status, code).get();
    }

    /** Records the engine the predictors run ({@code paddle} or {@code onnxruntime}); set once at start. */
    public void engine(String name) {
        engine.labelValues(name).set(1);
    }

    public void predictorBusy(int predictor, double seconds) {
        busy.labelValues(Integer.toString(predictor)).inc(seconds);
    }

    public void batch(int tensors) {
        batchSize.observe(tensors);
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

    public void alreadyAnswered() {
        answeredBefore.inc();
    }

    /** Records skipped as answered by an earlier transaction so far. */
    public double answeredBefore() {
        return answeredBefore.get();
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
