package io.inferencefleet.worker.intake;

import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.worker.lane.Job;
import io.inferencefleet.worker.lane.DecoderLane;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.publish.ResultFactory;
import io.inferencefleet.worker.publish.ResultPublisher;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The intake thread: the only user of the Kafka consumer. Polls requests, answers the ones that
 * cannot be processed at once (bad record → ERROR {@code bad_request}), hands the rest to the
 * least-busy lane, pauses partitions while too many requests are in flight, and commits each
 * partition up to the last record whose result the broker acknowledged. On revocation and on stop it
 * waits (bounded) for in-flight results, commits, and lets go.
 */
public final class Intake implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Intake.class);
    private static final Duration POLL = Duration.ofMillis(50);

    private final Consumer<byte[], byte[]> consumer;
    private final String inputTopic;
    private final List<DecoderLane> lanes;
    private final ResultFactory results;
    private final MessageCodec codec = new MessageCodec();
    private final int maxInFlight;
    private final int resumeInFlight;
    private final int maxPollRecords;
    private final long drainTimeoutMs;
    private final OffsetTracker tracker = new OffsetTracker();
    private final Queue<Job> done = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Exception> fatal = new AtomicReference<>();
    private final WorkerMetrics metrics;
    private ResultPublisher publisher;
    private volatile boolean running = true;
    private volatile int assigned;
    private long lagCheckedNs;
    private double lag = Double.NaN;
    private boolean paused;
    private long accepted;
    private int nextLane;

    public Intake(Consumer<byte[], byte[]> consumer, String inputTopic, List<DecoderLane> lanes, ResultFactory results,
                  int maxInFlight, int resumeInFlight, int maxPollRecords, long drainTimeoutMs, WorkerMetrics metrics) {
        this.consumer = consumer;
        this.inputTopic = inputTopic;
        this.lanes = lanes;
        this.results = results;
        this.maxInFlight = maxInFlight;
        this.resumeInFlight = resumeInFlight;
        this.maxPollRecords = maxPollRecords;
        this.drainTimeoutMs = drainTimeoutMs;
        this.metrics = metrics;
    }

    /** Ready: partitions assigned and results can be written. */
    public boolean ready() {
        return running && assigned > 0 && fatal.get() == null;
    }

    /** Set once, before {@link #run()}; the publisher reports back through {@link #onDone} and {@link #onFatal}. */
    public void publisher(ResultPublisher publisher) {
        this.publisher = publisher;
    }

    /** Called by producer threads when every record written for a job is acknowledged. */
    public void onDone(Job job) {
        done.offer(job);
    }

    /** Called by producer threads when a result could not be written: stop without committing past it. */
    public void onFatal(Exception e) {
        fatal.compareAndSet(null, e);
    }

    /** Asks the loop to stop; {@link #run()} then drains, commits and closes the consumer. */
    public void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(inputTopic), new Rebalance());
            while (running && fatal.get() == null) {
                try {
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
                        accept(record);
                    }
                } catch (org.apache.kafka.common.errors.WakeupException e) {
                    break;
                }
                settle();
            }
            if (fatal.get() != null) {
                LOG.error("event=intake_stopping reason=result_write_failed error=\"{}\"", fatal.get().toString());
            }
            drain(null);
        } finally {
            consumer.close(Duration.ofSeconds(10));
            LOG.info("event=intake_stopped accepted={} in_flight_abandoned={}", accepted, tracker.inFlight());
        }
    }

    private void accept(ConsumerRecord<byte[], byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        tracker.accepted(partition, record.offset());
        accepted++;
        MessageCodec.DecodedRequest decoded = codec.decodeRequest(record.value());
        Job job = new Job(partition, record.offset(), record.key(), record.value(), record.headers(),
                decoded.request(), System.nanoTime());
        if (!decoded.ok()) {
            publisher.publish(job, results.error(job, MessageCodec.BAD_REQUEST, decoded.error()));
            return;
        }
        // The lane with the fewest unanswered jobs; ties rotate so that idle predictors share the load.
        DecoderLane lane = null;
        for (int i = 0; i < lanes.size(); i++) {
            DecoderLane candidate = lanes.get((nextLane + i) % lanes.size());
            if (lane == null || candidate.pendingJobs() < lane.pendingJobs()) {
                lane = candidate;
            }
        }
        nextLane = (lane.index() + 1) % lanes.size();
        if (!lane.offer(job)) {
            // Unreachable: each lane holds max.in.flight jobs and in-flight requests never exceed it.
            publisher.publish(job, results.error(job, "overloaded", "no lane could take the request"));
        }
    }

    /** Acknowledgements → commits; in-flight bound → pause/resume. */
    private void settle() {
        for (Job job; (job = done.poll()) != null; ) {
            tracker.acknowledged(job.partition(), job.offset());
        }
        Map<TopicPartition, OffsetAndMetadata> commits = tracker.takeCommittable();
        if (!commits.isEmpty()) {
            consumer.commitAsync(commits, (offsets, e) -> {
                if (e != null) {
                    LOG.warn("event=commit_failed offsets={} error=\"{}\" effect=\"retried with the next commit\"",
                            offsets, e.toString());
                }
            });
        }
        int inFlight = tracker.inFlight();
        // Pause while one more poll could exceed the bound: in-flight requests never pass max.in.flight.
        if (!paused && inFlight + maxPollRecords > maxInFlight) {
            consumer.pause(consumer.assignment());
            paused = true;
            metrics.paused();
            LOG.debug("event=paused in_flight={}", inFlight);
        } else if (paused && inFlight <= resumeInFlight) {
            consumer.resume(consumer.paused());
            paused = false;
            metrics.resumed();
            LOG.debug("event=resumed in_flight={}", inFlight);
        }
        long now = System.nanoTime();
        if (now - lagCheckedNs > 1_000_000_000L) {
            lagCheckedNs = now;
            lag = maxLag();
            for (DecoderLane lane : lanes) {
                metrics.laneQueued(lane.index(), lane.queuedJobs());
            }
        }
        metrics.intake(inFlight, paused, lag);
    }

    private double maxLag() {
        for (var e : consumer.metrics().entrySet()) {
            // The consumer-wide maximum, not the per-partition ones.
            if (e.getKey().name().equals("records-lag-max") && !e.getKey().tags().containsKey("partition")) {
                Object value = e.getValue().metricValue();
                if (value instanceof Double d && !d.isNaN() && !d.isInfinite()) {
                    return d;
                }
            }
        }
        return Double.NaN;
    }

    /**
     * Waits up to the drain timeout for the results of {@code partitions} (all if null), commits
     * what is done, and forgets what is not (the partition's next owner reads it again).
     */
    private void drain(Collection<TopicPartition> partitions) {
        long deadline = System.currentTimeMillis() + drainTimeoutMs;
        while (pending(partitions) > 0 && System.currentTimeMillis() < deadline && fatal.get() == null) {
            for (Job job; (job = done.poll()) != null; ) {
                tracker.acknowledged(job.partition(), job.offset());
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Job job; (job = done.poll()) != null; ) {
            tracker.acknowledged(job.partition(), job.offset());
        }
        Map<TopicPartition, OffsetAndMetadata> commits = tracker.takeCommittable();
        if (!commits.isEmpty()) {
            try {
                consumer.commitSync(commits, Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("event=commit_failed offsets={} error=\"{}\"", commits, e.toString());
            }
        }
        int abandoned = pending(partitions);
        if (abandoned > 0) {
            LOG.warn("event=in_flight_abandoned count={} effect=\"uncommitted: they will be processed again\"", abandoned);
        }
        if (partitions != null) {
            partitions.forEach(tracker::forget);
        }
    }

    private int pending(Collection<TopicPartition> partitions) {
        if (partitions == null) {
            return tracker.inFlight();
        }
        int n = 0;
        for (TopicPartition p : partitions) {
            n += tracker.inFlight(p);
        }
        return n;
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            LOG.info("event=partitions_revoked partitions={} in_flight={}", partitions, pending(partitions));
            drain(partitions);
            assigned = Math.max(0, consumer.assignment().size() - partitions.size());
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.info("event=partitions_assigned partitions={}", partitions);
            assigned = consumer.assignment().size();
            if (paused) {
                Set<TopicPartition> all = new HashSet<>(consumer.assignment());
                consumer.pause(all);
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            LOG.warn("event=partitions_lost partitions={}", partitions);
            partitions.forEach(tracker::forget);
        }
    }
}
