package io.inferencefleet.benchmarks.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes requests to the input topic with a plain, idempotent {@code acks=all} KafkaProducer
 * (not the project's client), each keyed by its id: the shared photos as {@code file://} URIs, and
 * every {@code badEvery}-th record a bad one, in turn bad JSON, a missing file and the truncated
 * photo, so that ERROR answers are counted too. Ids are {@code <prefix>-<seq>[-<kind>]}; the kind
 * is part of the id so that the checker can tell what each request was. A steady rate is an open
 * loop (a send is due every 1/rate s whatever happened to the previous ones); the broker being down
 * only delays sends (the producer retries them within {@code delivery.timeout.ms}).
 */
final class LoadPublisher implements AutoCloseable {
    static final String BAD_JSON = "badjson";
    static final String MISSING = "missing";
    static final String TRUNCATED = "truncated";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Producer<String, byte[]> producer;
    private final String topic;
    private final List<Path> photos;
    private final Path imagesDir;
    private final int badEvery;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile String firstFailure;
    private volatile boolean steady;
    private Thread steadyThread;

    LoadPublisher(String bootstrapServers, String topic, List<Path> photos, Path imagesDir, int badEvery) {
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 2, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 300_000), new StringSerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.photos = List.copyOf(photos);
        this.imagesDir = imagesDir;
        this.badEvery = badEvery;
    }

    /** Starts publishing {@code rate} requests/s under ids {@code prefix-<seq>...} on a thread of its own. */
    synchronized void startSteady(String prefix, double rate) {
        if (steadyThread != null) {
            throw new IllegalStateException("already publishing");
        }
        steady = true;
        long periodNs = (long) (1e9 / rate);
        steadyThread = new Thread(() -> {
            long next = System.nanoTime();
            while (steady) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                    continue;
                }
                send(prefix, true);
                next += periodNs;
            }
        }, "chaos-publisher");
        steadyThread.setDaemon(true);
        steadyThread.start();
    }

    /** Stops the steady publisher and waits until every send is acknowledged or has failed. */
    synchronized void stopSteady() throws InterruptedException {
        steady = false;
        if (steadyThread != null) {
            steadyThread.join();
            steadyThread = null;
        }
        producer.flush();
    }

    /** Publishes {@code count} photo requests at once (no bad records) and waits for their acknowledgements. */
    void backlog(String prefix, int count) {
        for (int i = 0; i < count; i++) {
            send(prefix, false);
        }
        producer.flush();
    }

    private void send(String prefix, boolean withBad) {
        long seq = sequence.incrementAndGet();
        String base = String.format("%s-%06d", prefix, seq);
        String id;
        byte[] value;
        long slot = seq % badEvery;
        if (withBad && slot == 0) {
            String kind = List.of(BAD_JSON, MISSING, TRUNCATED).get((int) ((seq / badEvery) % 3));
            id = base + "-" + kind;
            value = switch (kind) {
                case BAD_JSON -> ("{\"id\": \"" + id + "\", \"imageUri\": ").getBytes(StandardCharsets.UTF_8);
                case MISSING -> request(id, imagesDir.resolve("missing-" + id + ".jpg"));
                default -> request(id, imagesDir.resolve("truncated.jpg"));
            };
        } else {
            id = base;
            value = request(id, photos.get((int) (seq % photos.size())));
        }
        sent.incrementAndGet();
        producer.send(new ProducerRecord<>(topic, id, value), (metadata, error) -> {
            if (error == null) {
                acked.incrementAndGet();
            } else {
                failed.incrementAndGet();
                if (firstFailure == null) {
                    firstFailure = id + ": " + error;
                }
            }
        });
    }

    private static byte[] request(String id, Path file) {
        ObjectNode node = JSON.createObjectNode();
        node.put("id", id);
        node.put("imageUri", file.toUri().toString());
        try {
            return JSON.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    long sent() {
        return sent.get();
    }

    long acked() {
        return acked.get();
    }

    long failed() {
        return failed.get();
    }

    String firstFailure() {
        return firstFailure;
    }

    @Override
    public void close() {
        steady = false;
        producer.close(java.time.Duration.ofSeconds(30));
    }
}
