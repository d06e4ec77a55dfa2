package io.inferencefleet.client;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes {@link InferenceRequest}s (image references) to the requests topic, encoded with
 * {@link MessageCodec}. Each request is keyed by its id unless a key is given; headers (for example
 * W3C {@code traceparent}) travel with the record and the worker copies the tracing ones to the
 * result. A deadline is part of the request ({@link InferenceRequest#withDeadlineMs}).
 *
 * <pre>{@code
 * try (RequestPublisher publisher = new RequestPublisher("images", Map.of("bootstrap.servers", "kafka:9092"))) {
 *     publisher.publish(InferenceRequest.of("req-1", "file:///data/cat.jpg")
 *             .withDeadlineMs(System.currentTimeMillis() + 5_000));
 *     publisher.publish(InferenceRequest.of("req-2", "https://images.example/dog.jpg"), "camera-7",
 *             Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
 *     publisher.flush();   // or join the returned futures
 * }
 * }</pre>
 *
 * The Kafka settings (bootstrap servers, security, tuning) are passed to the Kafka producer as they
 * are; the publisher only sets defaults for durability ({@code acks=all}, idempotence) and its own
 * byte-array serializers, which cannot be overridden. Thread-safe: one publisher can be shared by
 * all threads of an application.
 */
public final class RequestPublisher implements AutoCloseable {
    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    private final MessageCodec codec = new MessageCodec();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param topic the requests topic the workers consume
     * @param kafkaConfig Kafka producer settings, at least {@code bootstrap.servers}
     */
    public RequestPublisher(String topic, Map<String, ?> kafkaConfig) {
        this.topic = Objects.requireNonNull(topic, "topic");
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.putAll(Objects.requireNonNull(kafkaConfig, "kafkaConfig"));
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(config);
    }

    public String topic() {
        return topic;
    }

    /** Publishes {@code request} keyed by its id; the future completes when the broker acknowledged it. */
    public CompletableFuture<RecordMetadata> publish(InferenceRequest request) {
        return publish(request, request.id(), Map.of());
    }

    /**
     * Publishes {@code request} with a record key ({@code null} for none: partitions are then chosen by
     * the producer) and record headers (UTF-8 values). The future completes when the broker
     * acknowledged the record, or exceptionally with the producer's error.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public CompletableFuture<RecordMetadata> publish(InferenceRequest request, String key, Map<String, String> headers) {
        Objects.requireNonNull(request, "request");
        if (closed.get()) {
            throw new IllegalStateException("RequestPublisher for topic " + topic + " is closed");
        }
        RecordHeaders recordHeaders = new RecordHeaders();
        headers.forEach((name, value) -> recordHeaders.add(name, value.getBytes(StandardCharsets.UTF_8)));
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, null,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), codec.encode(request), recordHeaders);
        CompletableFuture<RecordMetadata> acked = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, exception) -> {
                if (exception != null) {
                    acked.completeExceptionally(exception);
                } else {
                    acked.complete(metadata);
                }
            });
        } catch (RuntimeException e) {  // e.g. the record is too large, or metadata did not arrive in max.block.ms
            acked.completeExceptionally(e);
        }
        return acked;
    }

    /** Publishes each request keyed by its id, in order; one future per request, in the same order. */
    public List<CompletableFuture<RecordMetadata>> publishAll(Collection<InferenceRequest> requests) {
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>(requests.size());
        for (InferenceRequest request : requests) {
            futures.add(publish(request));
        }
        return futures;
    }

    /** Sends everything buffered now and blocks until each record is acknowledged or failed. */
    public void flush() {
        producer.flush();
    }

    /** Sends what is buffered (waiting at most 30 s) and releases the producer. A second close does nothing. */
    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }

    public void close(Duration timeout) {
        if (closed.compareAndSet(false, true)) {
            producer.close(timeout);
        }
    }
}
