package io.inferencefleet.client;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Request/response over the fleet's topics: {@link #submit} publishes a request and returns a future
 * that completes with the worker's {@link InferenceResult} for the same id.
 *
 * <pre>{@code
 * try (InferenceClient client = InferenceClient.builder(Map.of("bootstrap.servers", "kafka:9092"))
 *         .requestsTopic("images").resultsTopic("predictions").defaultTimeout(Duration.ofSeconds(30))
 *         .build()) {
 *     CompletableFuture<InferenceResult> cat = client.submit(InferenceRequest.of("req-1", "file:///data/cat.jpg"));
 *     CompletableFuture<InferenceResult> dog = client.submit(InferenceRequest.of("req-2", "file:///data/dog.jpg"),
 *             Duration.ofSeconds(5));
 *     System.out.println(cat.join().status() + " " + dog.join().predictions());
 * }
 * }</pre>
 *
 * <p>How it works: {@link Builder#build()} assigns every partition of the results topic to one
 * consumer and positions it at the end offsets read <em>then</em>, before any request is sent, so
 * no result of a request of this client can be missed; a single background thread
 * ({@code inference-client-results}) reads results, completes the future whose request id matches,
 * ignores results for other ids (other clients share the topic; see {@link #ignoredResults()}) and
 * fails futures whose timeout passed with a {@link TimeoutException} naming the id (checked at
 * least every 100 ms). Ids must be unique among the requests in flight. Partitions added to the
 * results topic after the client started are not read.
 *
 * <p>Thread-safe; any number of requests may be in flight. Actions chained on the returned futures
 * without an executor run on the results thread: keep them short or use the {@code *Async}
 * variants. Cancelling a future forgets its request (a late result is then ignored). {@link #close()}
 * fails the futures still pending with {@link IllegalStateException} and stops the thread.
 */
public final class InferenceClient implements AutoCloseable {
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final RequestPublisher publisher;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String resultsTopic;
    private final Duration defaultTimeout;
    private final MessageCodec codec = new MessageCodec();
    private final ConcurrentHashMap<String, Pending> pending = new ConcurrentHashMap<>();
    // Deadlines hold the id, not the future: a completed result is not kept alive until its timeout.
    private final DelayQueue<Deadline> deadlines = new DelayQueue<>();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong ignored = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final Thread thread;
    private volatile boolean closed;
    private volatile Throwable failure;

    /** Kafka settings (bootstrap servers, security) are used by both the producer and the consumer. */
    public static Builder builder(Map<String, ?> kafkaConfig) {
        return new Builder(kafkaConfig);
    }

    public static final class Builder {
        private final Map<String, Object> kafkaConfig;
        private String requestsTopic = "images";
        private String resultsTopic = "predictions";
        private Duration defaultTimeout = Duration.ofSeconds(30);
        private boolean readCommitted;

        private Builder(Map<String, ?> kafkaConfig) {
            this.kafkaConfig = new HashMap<>(Objects.requireNonNull(kafkaConfig, "kafkaConfig"));
        }

        /** The topic workers read requests from (default {@code images}). */
        public Builder requestsTopic(String topic) {
            this.requestsTopic = Objects.requireNonNull(topic, "requestsTopic");
            return this;
        }

        /** The topic workers write results to (default {@code predictions}). */
        public Builder resultsTopic(String topic) {
            this.resultsTopic = Objects.requireNonNull(topic, "resultsTopic");
            return this;
        }

        /**
         * Read results with {@code isolation.level=read_committed}: only results of committed worker
         * transactions complete a future. With workers on {@code delivery.guarantee=exactly-once} that is
         * the result counted exactly once; a result of an aborted transaction (whose request is then
         * answered again) is never seen. Results appear once their transaction commits (every
         * {@code transaction.interval.ms}). Off by default (read_uncommitted, as Kafka's default).
         */
        public Builder readCommitted(boolean readCommitted) {
            this.readCommitted = readCommitted;
            return this;
        }

        /** The timeout of {@link #submit(InferenceRequest)} (default 30 s). */
        public Builder defaultTimeout(Duration timeout) {
            this.defaultTimeout = positive(timeout);
            return this;
        }

        /**
         * Connects, captures the end offsets of the results topic and starts the results thread.
         *
         * @throws IllegalStateException when the results topic has no partitions (does not exist)
         * @throws org.apache.kafka.common.KafkaException when the brokers cannot be reached in time
         */
        public InferenceClient build() {
            return new InferenceClient(this);
        }
    }

    private InferenceClient(Builder builder) {
        this.resultsTopic = builder.resultsTopic;
        this.defaultTimeout = builder.defaultTimeout;
        Map<String, Object> consumerConfig = new HashMap<>();
        // A client only reads the results topic: a typo in its name must not create a topic.
        consumerConfig.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        consumerConfig.putAll(builder.kafkaConfig);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        if (builder.readCommitted) {
            // Only the consumer's setting: the producer of requests would warn about an unknown key.
            consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        }
        consumerConfig.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumerConfig.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerConfig);
        RequestPublisher p = null;
        try {
            List<PartitionInfo> infos = c.partitionsFor(resultsTopic);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("results topic " + resultsTopic + " has no partitions (does it exist?)");
            }
            List<TopicPartition> partitions = new ArrayList<>();
            infos.forEach(info -> partitions.add(new TopicPartition(resultsTopic, info.partition())));
            c.assign(partitions);
            // The end offsets before the first request is sent: every result of ours lies beyond them.
            c.endOffsets(partitions).forEach(c::seek);
            p = new RequestPublisher(builder.requestsTopic, builder.kafkaConfig);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        this.consumer = c;
        this.publisher = p;
        this.thread = new Thread(this::readResults, "inference-client-results");
        thread.setDaemon(true);
        thread.start();
    }

    /** {@link #submit(InferenceRequest, Duration)} with the builder's default timeout. */
    public CompletableFuture<InferenceResult> submit(InferenceRequest request) {
        return submit(request, defaultTimeout, Map.of());
    }

    /** Publishes {@code request} (keyed by its id) and returns its result, or a {@link TimeoutException} after {@code timeout}. */
    public CompletableFuture<InferenceResult> submit(InferenceRequest request, Duration timeout) {
        return submit(request, timeout, Map.of());
    }

    /**
     * Publishes {@code request} with record headers (for example {@code traceparent}) and returns a
     * future for its result. The future fails with {@link TimeoutException} when no result arrives
     * within {@code timeout}, with {@link IllegalArgumentException} when a request with the same id is
     * already in flight, with the producer's exception when the request could not be published, and
     * with {@link IllegalStateException} when the client is (or gets) closed.
     */
    public CompletableFuture<InferenceResult> submit(InferenceRequest request, Duration timeout,
                                                     Map<String, String> headers) {
        Objects.requireNonNull(request, "request");
        positive(timeout);
        Objects.requireNonNull(headers, "headers");
        String id = request.id();
        if (closed || failure != null) {
            return CompletableFuture.failedFuture(notRunning(id));
        }
        long deadlineNanos = System.nanoTime() + timeout.toNanos();
        Pending entry = new Pending(id, sequence.incrementAndGet());
        if (pending.putIfAbsent(id, entry) != null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a request with id '" + id
                    + "' is already in flight on this client"));
        }
        entry.future.whenComplete((result, error) -> pending.remove(id, entry));
        if (closed || failure != null) {  // close() may have drained the map just before our put
            entry.future.completeExceptionally(notRunning(id));
            return entry.future;
        }
        deadlines.add(new Deadline(id, entry.seq, deadlineNanos, timeout));
        try {
            publisher.publish(request, id, headers).whenComplete((metadata, error) -> {
                if (error != null) {
                    entry.future.completeExceptionally(error);
                }
            });
        } catch (IllegalStateException e) {  // the publisher closed under us
            entry.future.completeExceptionally(notRunning(id));
        }
        return entry.future;
    }

    /** Requests submitted whose result has not arrived, timed out or been cancelled. */
    public int pendingCount() {
        return pending.size();
    }

    /** Results read that matched no pending request (other clients' results, late or duplicate ones, undecodable records). */
    public long ignoredResults() {
        return ignored.get();
    }

    private void readResults() {
        try {
            while (!closed) {
                Deadline next = deadlines.peek();
                long waitNanos = next == null ? MAX_POLL_NANOS
                        : Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(MAX_POLL_NANOS, next.getDelay(TimeUnit.NANOSECONDS)));
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofNanos(waitNanos))) {
                    deliver(record);
                }
                expireDue();
            }
        } catch (WakeupException e) {
            if (!closed) {
                failure = e;
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            consumer.close();
            Throwable cause = failure;
            if (cause != null) {
                failAll(id -> new IllegalStateException("InferenceClient stopped reading " + resultsTopic
                        + " before the result for request id '" + id + "' arrived: " + cause, cause));
            }
        }
    }

    private void deliver(ConsumerRecord<byte[], byte[]> record) {
        InferenceResult result;
        try {
            result = codec.decodeResult(record.value());
        } catch (IllegalArgumentException e) {
            ignored.incrementAndGet();
            return;
        }
        Pending entry = pending.remove(result.id());
        if (entry == null) {
            ignored.incrementAndGet();
        } else {
            entry.future.complete(result);
        }
    }

    private void expireDue() {
        Deadline due;
        while ((due = deadlines.poll()) != null) {
            Pending entry = pending.get(due.id);
            if (entry != null && entry.seq == due.seq && pending.remove(due.id, entry)) {
                entry.future.completeExceptionally(new TimeoutException("no result for request id '" + due.id
                        + "' on " + resultsTopic + " within " + due.timeout.toMillis() + " ms"));
            }
        }
    }

    private void failAll(java.util.function.Function<String, Throwable> why) {
        for (Pending entry : pending.values()) {
            if (pending.remove(entry.id, entry)) {
                entry.future.completeExceptionally(why.apply(entry.id));
            }
        }
        deadlines.clear();
    }

    private IllegalStateException notRunning(String id) {
        Throwable cause = failure;
        return cause == null
                ? new IllegalStateException("InferenceClient closed before the result for request id '" + id + "' arrived")
                : new IllegalStateException("InferenceClient stopped reading " + resultsTopic + ": " + cause, cause);
    }

    /**
     * Stops the results thread, fails every pending future with {@link IllegalStateException} naming
     * its id, and closes the producer (sending what it buffered) and the consumer. A second close does
     * nothing.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        closed = true;
        consumer.wakeup();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        failAll(this::notRunning);
        publisher.close();
    }

    private static Duration positive(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("Invalid value " + timeout + " for timeout: must be positive");
        }
        return timeout;
    }

    /** A request in flight; {@code seq} tells it from an earlier request with the same id. */
    private static final class Pending {
        final String id;
        final long seq;
        final CompletableFuture<InferenceResult> future = new CompletableFuture<>();

        Pending(String id, long seq) {
            this.id = id;
            this.seq = seq;
        }
    }

    private record Deadline(String id, long seq, long deadlineNanos, Duration timeout) implements Delayed {
        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(deadlineNanos, ((Deadline) other).deadlineNanos);
        }
    }
}
