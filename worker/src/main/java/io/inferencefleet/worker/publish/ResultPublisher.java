package io.inferencefleet.worker.publish;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.worker.lane.Job;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes results (and, when enabled, dead-letter copies of failed requests) with an idempotent,
 * {@code acks=all} producer, and reports each job as done only once every record written for it
 * is acknowledged by the broker; only then may its offset be committed. Thread-safe.
 */
public final class ResultPublisher implements AutoCloseable {
    /** Headers copied from the request to its result, so that tracing and correlation survive. */
    static final String[] PROPAGATED_HEADERS = {"traceparent", "tracestate", "correlation-id", "x-correlation-id"};
    public static final String ERROR_CODE_HEADER = "fleet.error.code";
    public static final String ERROR_MESSAGE_HEADER = "fleet.error.message";

    private static final Logger LOG = LoggerFactory.getLogger(ResultPublisher.class);

    private final KafkaProducer<byte[], byte[]> producer;
    private final MessageCodec codec = new MessageCodec();
    private final String resultsTopic;
    private final String deadLetterTopic;
    private final Consumer<Job> onDone;
    private final Consumer<Exception> onFatal;
    private final WorkerMetrics metrics;

    /**
     * @param deadLetterTopic null to disable dead-letter copies
     * @param onDone called (on a producer thread) once all records of a job are acknowledged
     * @param onFatal called when a record could not be written despite the producer's retries
     */
    public ResultPublisher(String bootstrapServers, String resultsTopic, String deadLetterTopic,
                           Map<String, Object> extraProducerConfig, Consumer<Job> onDone, Consumer<Exception> onFatal,
                           WorkerMetrics metrics) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.putAll(extraProducerConfig);
        this.producer = new KafkaProducer<>(props);
        this.resultsTopic = resultsTopic;
        this.deadLetterTopic = deadLetterTopic;
        this.onDone = onDone;
        this.onFatal = onFatal;
        this.metrics = metrics;
    }

    /** Publishes {@code result} for {@code job}; for ERROR results also the dead-letter copy. */
    public void publish(Job job, InferenceResult result) {
        job.answered();  // the lane that held it may take more work
        metrics.onResult(result);
        boolean deadLetter = deadLetterTopic != null && result.status() == InferenceResult.Status.ERROR;
        AtomicInteger outstanding = new AtomicInteger(deadLetter ? 2 : 1);
        RecordHeaders headers = new RecordHeaders();
        for (String name : PROPAGATED_HEADERS) {
            Header header = job.headers() == null ? null : job.headers().lastHeader(name);
            if (header != null) {
                headers.add(name, header.value());
            }
        }
        send(new ProducerRecord<>(resultsTopic, null, job.key(), codec.encode(result), headers), job, outstanding);
        if (deadLetter) {
            RecordHeaders dltHeaders = new RecordHeaders(job.headers() == null ? new Header[0] : job.headers().toArray());
            dltHeaders.add(ERROR_CODE_HEADER, result.error().code().getBytes(StandardCharsets.UTF_8));
            dltHeaders.add(ERROR_MESSAGE_HEADER, String.valueOf(result.error().message()).getBytes(StandardCharsets.UTF_8));
            dltHeaders.add("fleet.source", (job.partition() + "@" + job.offset()).getBytes(StandardCharsets.UTF_8));
            send(new ProducerRecord<>(deadLetterTopic, null, job.key(), job.value(), dltHeaders), job, outstanding);
        }
    }

    private void send(ProducerRecord<byte[], byte[]> record, Job job, AtomicInteger outstanding) {
        producer.send(record, (metadata, exception) -> {
            if (exception != null) {
                LOG.error("event=result_write_failed topic={} partition={} offset={} error=\"{}\"", record.topic(),
                        job.partition(), job.offset(), exception.toString());
                onFatal.accept(exception);
            } else if (outstanding.decrementAndGet() == 0) {
                onDone.accept(job);
            }
        });
    }

    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(10));
    }

    /** Blocks until every record sent so far is acknowledged or failed. */
    public void flush() {
        producer.flush();
    }
}
