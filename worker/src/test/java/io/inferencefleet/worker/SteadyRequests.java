package io.inferencefleet.worker;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A client publishing requests {@code <prefix>-<n>} (keyed by their id) for photos in turn at a
 * steady rate, with the settings a client needs to lose nothing across a leader change: an
 * idempotent {@code acks=all} producer with Kafka's default retries within its delivery timeout.
 * Remembers when each request was handed to the producer and which ones the cluster acknowledged.
 */
final class SteadyRequests implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final MessageCodec codec = new MessageCodec();
    private final String topic;
    private final String prefix;
    private final List<Path> photos;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "steady-requests"));
    private final AtomicInteger next = new AtomicInteger();
    private final Map<String, Long> sentAtMs = new ConcurrentHashMap<>();
    private final Map<String, Boolean> acked = new ConcurrentHashMap<>();
    private final AtomicReference<Exception> firstFailure = new AtomicReference<>();

    SteadyRequests(String bootstrapServers, String topic, String prefix, List<Path> photos, double perSecond) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(p);
        this.topic = topic;
        this.prefix = prefix;
        this.photos = photos;
        timer.scheduleAtFixedRate(this::sendOne, 0, (long) (1e6 / perSecond), TimeUnit.MICROSECONDS);
    }

    private void sendOne() {
        int n = next.getAndIncrement();
        String id = prefix + "-" + n;
        Path photo = photos.get(n % photos.size());
        sentAtMs.put(id, System.currentTimeMillis());
        producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8),
                codec.encode(InferenceRequest.of(id, photo.toUri().toString()))), (metadata, e) -> {
            if (e == null) {
                acked.put(id, true);
            } else {
                firstFailure.compareAndSet(null, e);
            }
        });
    }

    /** Stops publishing and waits until every request sent is acknowledged or failed. */
    void stop() throws InterruptedException {
        timer.shutdown();
        timer.awaitTermination(10, TimeUnit.SECONDS);
        producer.flush();
    }

    int sent() {
        return sentAtMs.size();
    }

    /** Ids of the requests the cluster acknowledged. */
    java.util.Set<String> acked() {
        return acked.keySet();
    }

    /** When request {@code id} was handed to the producer (wall clock), or null. */
    Long sentAtMs(String id) {
        return sentAtMs.get(id);
    }

    /** The first failed send, or null. */
    Exception firstFailure() {
        return firstFailure.get();
    }

    @Override
    public void close() throws InterruptedException {
        timer.shutdownNow();
        timer.awaitTermination(10, TimeUnit.SECONDS);
        producer.close();
    }
}
