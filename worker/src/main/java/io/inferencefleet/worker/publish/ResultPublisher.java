package io.inferencefleet.worker.publish;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.worker.job.Acknowledgements;
import io.inferencefleet.worker.job.Answers;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's one answer path ({@link Answers}): builds each job's result, writes it (and, when
 * enabled, the dead-letter copy of a failed request) with an idempotent, {@code acks=all} producer,
 * and reports the job {@link Acknowledgements acknowledged} only once every record written for it
 * is; only then may its offset be committed. Thread-safe.
 *
 * <p>Write failures are of two kinds. <b>Per record</b> (the record is too large for the producer or
 * the broker, or invalid): the request still gets its one answer, a small ERROR result
 * {@code result_too_large} without the echoed attributes; a dead-letter copy that does not fit is
 * sent truncated with header {@value #TRUNCATED_HEADER}. Dead-letter copies carry our {@code fleet.*}
 * headers and Spring Kafka's {@code kafka_dlt-*} ones ({@link DeadLetterHeaders}), the truncated one too. <b>Fatal</b> (anything the producer could not
 * deliver after its retries, and for good: authentication, authorization, fencing): recorded in the
 * acknowledgements, so that the intake stops without committing past the job.
 *
 * <p>With {@code delivery.guarantee=exactly-once} it writes through a {@link StagingSink}: the records
 * are kept on the job, and the intake writes them with the offsets in one transaction.
 */
public final class ResultPublisher implements Answers, AutoCloseable {
    /** Headers copied from the request to its result, so that correlation survives; trace context is {@link TraceContext}'s. */
    static final String[] PROPAGATED_HEADERS = {"correlation-id", "x-correlation-id"};
    public static final String ERROR_CODE_HEADER = "fleet.error.code";
    public static final String ERROR_MESSAGE_HEADER = "fleet.error.message";
    public static final String SOURCE_HEADER = "fleet.source";
    /** On a dead-letter copy cut to fit: the original value's length in bytes. */
    public static final String TRUNCATED_HEADER = "fleet.truncated.original.bytes";
    /** What a dead-letter copy is cut to when the whole request does not fit. */
    static final int TRUNCATED_DLT_BYTES = 64 * 1024;
    /** Messages in a replacement result are cut to this many characters. */
    static final int REPLACEMENT_MESSAGE_CHARS = 500;

    private static final Logger LOG = LoggerFactory.getLogger(ResultPublisher.class);

    private final ResultSink sink;
    private final ResultFactory results;
    private final MessageCodec codec = new MessageCodec();
    private final TraceContext traceContext = new TraceContext();
    private final String resultsTopic;
    private final String deadLetterTopic;
    private final String inputTopic;
    private final String consumerGroup;
    private final Acknowledgements acks;
    private final WorkerMetrics metrics;
    /** Replacement sends run here, not on the producer's I/O thread, where a blocking send could stall it. */
    private final ExecutorService replacements = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "result-replacements");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param deadLetterTopic null to disable dead-letter copies
     * @param source the input topic and consumer group, named in dead-letter copies' headers
     * @param extraProducerConfig {@code kafka.producer.*} settings (already checked by the configuration)
     */
    public ResultPublisher(String bootstrapServers, String clientId, String resultsTopic, String deadLetterTopic,
                           Source source, Map<String, Object> extraProducerConfig, ResultFactory results,
                           Acknowledgements acks, WorkerMetrics metrics) {
        this(new KafkaProducer<>(producerProperties(bootstrapServers, clientId, extraProducerConfig)), resultsTopic,
                deadLetterTopic, source, results, acks, metrics);
    }

    /** With the caller's producer (tests: Kafka's {@code MockProducer}); it is closed by {@link #close()}. */
    public ResultPublisher(Producer<byte[], byte[]> producer, String resultsTopic, String deadLetterTopic, Source source,
                           ResultFactory results, Acknowledgements acks, WorkerMetrics metrics) {
        this(ResultSink.of(producer), resultsTopic, deadLetterTopic, source, results, acks, metrics);
    }

    /**
     * Writing through {@code sink}: {@link ResultSink#of a producer} (at-least-once), or {@link
     * StagingSink} (exactly-once: the intake writes the records in its transaction).
     */
    public ResultPublisher(ResultSink sink, String resultsTopic, String deadLetterTopic, Source source,
                           ResultFactory results, Acknowledgements acks, WorkerMetrics metrics) {
        this.sink = sink;
        this.resultsTopic = resultsTopic;
        this.deadLetterTopic = deadLetterTopic;
        this.inputTopic = source.topic();
        this.consumerGroup = source.consumerGroup();
        this.results = results;
        this.acks = acks;
        this.metrics = metrics;
    }

    /** Where the requests come from: the input topic and the consumer group reading it. */
    public record Source(String topic, String consumerGroup) {}

    /**
     * The exactly-once producer's settings ({@code Transactions} in the intake writes with it): the
     * at-least-once ones plus {@code transactional.id} and {@code transaction.timeout.ms} (the worker
     * configuration's concluded value).
     */
    public static Properties transactionalProducerProperties(String bootstrapServers, String clientId,
                                                             String transactionalId, int transactionTimeoutMs,
                                                             Map<String, Object> extra) {
        Properties props = producerProperties(bootstrapServers, clientId, Map.of());
        props.putAll(extra);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, transactionTimeoutMs);
        return props;
    }

    private static Properties producerProperties(String bootstrapServers, String clientId, Map<String, Object> extra) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-results");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.putAll(extra);
        return props;
    }

    @Override
    public void ok(Job job, float[] scores, int classes, double inferenceMs, double queueMs) {
        if (claim(job, "ok")) {
            publish(job, results.ok(job, scores, classes, inferenceMs, queueMs));
        }
    }

    @Override
    public void error(Job job, ErrorCode code, String message) {
        if (claim(job, code.code())) {
            publish(job, results.error(job, code, message));
        }
    }

    @Override
    public void expired(Job job, long deadlineMs, long nowMs) {
        if (claim(job, "expired")) {
            publish(job, results.expired(job, deadlineMs, nowMs));
        }
    }

    private boolean claim(Job job, String outcome) {
        if (job.claimAnswer()) {
            return true;
        }
        // A bug: some path answered twice. The first answer stands; this one is counted, not published.
        metrics.duplicateAnswer();
        LOG.error("event=duplicate_answer job={} outcome={} effect=\"not published; the first answer stands\"", job,
                outcome, new IllegalStateException("second answer"));
        return false;
    }

    private void publish(Job job, InferenceResult result) {
        boolean deadLetter = deadLetterTopic != null && result.status() == InferenceResult.Status.ERROR;
        AtomicInteger outstanding = new AtomicInteger(deadLetter ? 2 : 1);
        sendResult(job, result, outstanding, false);
        if (deadLetter) {
            sendDeadLetter(job, result.error(), job.value(), outstanding, false);
        }
    }

    private void sendResult(Job job, InferenceResult result, AtomicInteger outstanding, boolean replacement) {
        // A replacement carries no request headers: a huge traceparent may be what made the result too large.
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(resultsTopic, null, job.key(), codec.encode(result),
                replacement ? new RecordHeaders() : propagatedHeaders(job));
        send(record, job, e -> {
            if (replacement || !perRecord(e)) {
                return false;
            }
            LOG.warn("event=result_too_large job={} bytes={} error=\"{}\" effect=\"answered result_too_large without"
                    + " attributes\"", job, record.value().length, e.toString());
            String message = "the result (" + record.value().length + " bytes with the request's attributes) was refused"
                    + " by Kafka: " + e.getMessage();
            InferenceResult small = results.replacement(job, ErrorCode.RESULT_TOO_LARGE, cut(message));
            return onReplacementThread(() -> sendResult(job, small, outstanding, true));
        }, () -> {
            if (sink.countsAtCommit()) {
                job.stageOutcome(result);
            } else {
                metrics.onResult(result);
            }
            done(job, outstanding);
        });
    }

    private void sendDeadLetter(Job job, InferenceResult.ErrorInfo error, byte[] value, AtomicInteger outstanding,
                                boolean truncated) {
        List<Header> ours = DeadLetterHeaders.of(job, inputTopic, consumerGroup, error, cut(String.valueOf(error.message())));
        RecordHeaders headers = new RecordHeaders();
        if (!truncated && job.headers() != null) {
            // The request's headers first (a truncated copy drops them: they may be what made it too large).
            for (Header header : job.headers()) {
                if (!DeadLetterHeaders.isReplacedException(header)) {
                    headers.add(header);
                }
            }
        }
        ours.forEach(headers::add);
        if (truncated) {
            headers.add(TRUNCATED_HEADER, Integer.toString(job.value() == null ? 0 : job.value().length)
                    .getBytes(StandardCharsets.US_ASCII));
        }
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(deadLetterTopic, null, job.key(), value, headers);
        send(record, job, e -> {
            if (truncated || !perRecord(e)) {
                return false;
            }
            LOG.warn("event=dead_letter_truncated job={} bytes={} error=\"{}\"", job,
                    value == null ? 0 : value.length, e.toString());
            byte[] cut = value == null ? null : Arrays.copyOf(value, Math.min(value.length, TRUNCATED_DLT_BYTES));
            return onReplacementThread(() -> sendDeadLetter(job, error, cut, outstanding, true));
        }, () -> done(job, outstanding));
    }

    /**
     * Sends {@code record}; on failure {@code recover} may take care of it (returns true), else the
     * failure is fatal for the worker.
     */
    private void send(ProducerRecord<byte[], byte[]> record, Job job,
                      java.util.function.Predicate<Exception> recover, Runnable acknowledged) {
        try {
            sink.send(job, record, (metadata, exception) -> {
                if (exception == null) {
                    acknowledged.run();
                } else if (!recover.test(exception)) {
                    fatal(record, job, exception);
                }
            });
        } catch (RuntimeException e) {
            // send() itself throws for some per-record problems (serialization, size known up front) and
            // when the producer is closed or fenced.
            if (!recover.test(e)) {
                fatal(record, job, e);
            }
        }
    }

    private void fatal(ProducerRecord<byte[], byte[]> record, Job job, Exception e) {
        LOG.error("event=result_write_failed topic={} job={} error=\"{}\" kafka_refused={}", record.topic(), job,
                e.toString(), refusedForGood(e));
        acks.fatal(e);
    }

    private boolean onReplacementThread(Runnable send) {
        try {
            replacements.execute(send);
            return true;
        } catch (RejectedExecutionException closing) {
            return false;
        }
    }

    private void done(Job job, AtomicInteger outstanding) {
        if (outstanding.decrementAndGet() == 0) {
            acks.acknowledged(job);
        }
    }

    private RecordHeaders propagatedHeaders(Job job) {
        RecordHeaders headers = new RecordHeaders();
        traceContext.forResult(job.headers()).forEach(headers::add);
        for (String name : PROPAGATED_HEADERS) {
            Header header = job.headers() == null ? null : job.headers().lastHeader(name);
            if (header != null) {
                headers.add(name, header.value());
            }
        }
        return headers;
    }

    /** A problem of this one record, which a smaller record would not have. */
    static boolean perRecord(Throwable e) {
        return e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException
                || e instanceof InvalidRecordException || e instanceof SerializationException;
    }

    /** Kafka refuses this worker for good: retrying or restarting will not help until someone acts. */
    public static boolean refusedForGood(Throwable e) {
        return e instanceof AuthenticationException || e instanceof AuthorizationException
                || e instanceof ProducerFencedException || e instanceof UnsupportedVersionException
                || e instanceof org.apache.kafka.common.errors.FencedInstanceIdException;
    }

    private static String cut(String s) {
        return s.length() <= REPLACEMENT_MESSAGE_CHARS ? s : s.substring(0, REPLACEMENT_MESSAGE_CHARS) + "...";
    }

    /** Blocks until every record sent so far is acknowledged or failed. */
    public void flush() {
        sink.flush();
    }

    /** Waits (bounded) for what was sent; a replacement that has not been sent by then is lost like any unsent result. */
    @Override
    public void close() {
        sink.close();
        replacements.shutdownNow();
    }
}
