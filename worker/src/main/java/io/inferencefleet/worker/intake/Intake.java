package io.inferencefleet.worker.intake;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.worker.job.Acknowledgements;
import io.inferencefleet.worker.job.Answers;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.lane.DecoderLane;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.CloseOptions;
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
 *
 * <p>With {@code delivery.guarantee=exactly-once} ({@link Transactions} given) nothing is committed
 * with {@code commitAsync}: the answers' records and the committable offsets go into one transaction,
 * committed every {@code transaction.interval.ms} (or {@code transaction.max.results}), before a
 * revocation completes, and on stop; an aborted transaction's partitions are read again from their
 * last committed offsets.
 *
 * <p>Each polled record gets exactly one job: a record polled again while its earlier job is still
 * in the pipeline (a partition revoked with a timed-out drain, then assigned back) is not given a
 * second one; the earlier job's acknowledgement counts for it.
 */
public final class Intake implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Intake.class);
    private static final Duration POLL = Duration.ofMillis(50);
    /**
     * Exactly-once: answers are written and transactions committed between polls, so a poll this long
     * is the most an answer waits to be written (a due transaction is committed when it is due: the poll
     * is shortened to end then). At-least-once answers are sent by the answering threads at once.
     */
    private static final Duration TRANSACTIONAL_POLL = Duration.ofMillis(10);

    /** Longest a single commitSync or the consumer's close may take, within the shutdown budget. */
    private static final long MAX_COMMIT_MS = 10_000;

    private final Consumer<byte[], byte[]> consumer;
    private final String inputTopic;
    private final List<DecoderLane> lanes;
    private final Answers answers;
    private final Acknowledgements acks;
    private final BooleanSupplier pipelineAlive;
    private final MessageCodec codec = new MessageCodec();
    private final int maxInFlight;
    private final int resumeInFlight;
    private final int maxPollRecords;
    private final long drainTimeoutMs;
    private final OffsetTracker tracker = new OffsetTracker();
    /** Jobs accepted and not yet acknowledged, by registry key: a record polled again joins its job. */
    private final Map<Long, Job> live = new HashMap<>();
    private final WorkerMetrics metrics;
    /** Exactly-once: the transactions results and offsets are written in; null for at-least-once. */
    private final Transactions transactions;
    private volatile boolean running = true;
    private volatile String stopReason;
    private volatile int assigned;
    private long lagCheckedNs;
    private double lag = Double.NaN;
    private boolean paused;
    private long accepted;
    private long commitWarnedNs = System.nanoTime() - 20_000_000_000L;
    private long commitFailures;
    private int nextLane;

    /**
     * @param pipelineAlive false once a decoder or predictor thread has died: the intake then stops
     * @param drainTimeoutMs {@code shutdown.timeout.ms}: bounds a revocation's drain, and a stop in total
     */
    public Intake(Consumer<byte[], byte[]> consumer, String inputTopic, List<DecoderLane> lanes, Answers answers,
                  Acknowledgements acks, BooleanSupplier pipelineAlive, int maxInFlight, int resumeInFlight,
                  int maxPollRecords, long drainTimeoutMs, WorkerMetrics metrics) {
        this(consumer, inputTopic, lanes, answers, acks, pipelineAlive, maxInFlight, resumeInFlight, maxPollRecords,
                drainTimeoutMs, metrics, null);
    }

    /**
     * @param transactions exactly-once: the answers' records (staged on each job) and the offsets are
     *     written in its transactions, by this thread; null for at-least-once (results written by the
     *     answering threads, offsets committed here once acknowledged). Closed by {@link #run()}.
     */
    public Intake(Consumer<byte[], byte[]> consumer, String inputTopic, List<DecoderLane> lanes, Answers answers,
                  Acknowledgements acks, BooleanSupplier pipelineAlive, int maxInFlight, int resumeInFlight,
                  int maxPollRecords, long drainTimeoutMs, WorkerMetrics metrics, Transactions transactions) {
        this.transactions = transactions;
        this.consumer = consumer;
        this.inputTopic = inputTopic;
        this.lanes = List.copyOf(lanes);
        this.answers = answers;
        this.acks = acks;
        this.pipelineAlive = pipelineAlive;
        this.maxInFlight = maxInFlight;
        this.resumeInFlight = resumeInFlight;
        this.maxPollRecords = maxPollRecords;
        this.drainTimeoutMs = drainTimeoutMs;
        this.metrics = metrics;
    }

    /** Ready: partitions assigned, results can be written and every agent runs. */
    public boolean ready() {
        return running && assigned > 0 && acks.fatal() == null && pipelineAlive.getAsBoolean();
    }

    /** Why the intake stopped on its own (null while running, or after {@link #stop()}). */
    public String stopReason() {
        return stopReason;
    }

    /** Asks the loop to stop; {@link #run()} then drains, commits and closes the consumer. */
    public void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public void run() {
        long stopDeadlineMs = Long.MAX_VALUE;
        try {
            if (transactions != null) {
                try {
                    transactions.init();
                } catch (RuntimeException e) {
                    LOG.error("event=transactions_init_failed error=\"{}\"", e.toString());
                    acks.fatal(e);
                }
            }
            consumer.subscribe(List.of(inputTopic), new Rebalance());
            while (running && acks.fatal() == null && pipelineAlive.getAsBoolean()) {
                try {
                    Duration poll = transactions == null ? POLL
                            : Duration.ofNanos(transactions.untilDue(System.nanoTime(), TRANSACTIONAL_POLL.toNanos()));
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(poll)) {
                        accept(record);
                    }
                } catch (org.apache.kafka.common.errors.WakeupException e) {
                    break;
                } catch (org.apache.kafka.common.errors.FencedInstanceIdException e) {
                    // Another running worker has this worker.id (group.instance.id): restarting cannot help.
                    acks.fatal(e);
                    break;
                }
                settle();
            }
            // One budget for the whole stop (drain, final commit, leaving the group): a supervisor
            // waits shutdown.timeout.ms (plus a margin) before it kills the worker.
            stopDeadlineMs = System.currentTimeMillis() + drainTimeoutMs;
            if (acks.fatal() != null) {
                stopReason = "result_write_failed: " + acks.fatal();
                LOG.error("event=intake_stopping reason=result_write_failed error=\"{}\"", acks.fatal().toString());
            } else if (running) {
                stopReason = "agent_died";
                LOG.error("event=intake_stopping reason=agent_died effect=\"draining, then exit so that a supervisor"
                        + " restarts the worker\"");
            }
            drain(null, stopDeadlineMs);
        } finally {
            long closeMs = Math.max(0, Math.min(MAX_COMMIT_MS, stopDeadlineMs - System.currentTimeMillis()));
            // Leave the group even as a static member: a worker that stops on purpose hands its
            // partitions over now, not after session.timeout.ms (a crashed one keeps them for its restart).
            consumer.close(CloseOptions.timeout(Duration.ofMillis(closeMs))
                    .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
            LOG.info("event=intake_stopped accepted={} in_flight_abandoned={}", accepted, tracker.inFlight());
            if (transactions != null) {
                transactions.close();
            }
        }
    }

    private void accept(ConsumerRecord<byte[], byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        tracker.accepted(partition, record.offset());
        if (transactions != null) {
            transactions.accepted(partition, record.offset());
        }
        accepted++;
        if (transactions != null && transactions.answeredBefore(partition, record.offset())) {
            // Its result is committed (answered ahead of an earlier record, by this worker before an
            // abort or by the partition's previous owner): it has had its one answer.
            tracker.acknowledged(partition, record.offset());
            transactions.release(partition, tracker.committable(partition));
            metrics.alreadyAnswered();
            return;
        }
        long key = Job.registryKey(record.partition(), record.offset());
        if (live.containsKey(key)) {
            LOG.info("event=record_rejoined partition={} offset={} effect=\"answered by its earlier job\"", partition,
                    record.offset());
            return;
        }
        Job job = null;
        try {
            MessageCodec.DecodedRequest decoded = codec.decodeRequest(record.value());
            job = new Job(partition, record.offset(), record.timestamp(), record.timestampType(), record.key(), record.value(), record.headers(), decoded.request(),
                    System.nanoTime());
            live.put(key, job);
            if (!decoded.ok()) {
                answers.error(job, ErrorCode.BAD_REQUEST, decoded.error());
                return;
            }
            handToALane(job);
        } catch (RuntimeException e) {
            // A hole in our own checks must cost this one record its answer, not the intake thread: a
            // record that killed the worker would kill every next owner of its partition too.
            metrics.agentError("intake");
            if (job == null) {
                job = new Job(partition, record.offset(), record.timestamp(), record.timestampType(), record.key(), record.value(), record.headers(), null,
                        System.nanoTime());
                live.put(key, job);
            }
            if (!job.isAnswered()) {
                answers.error(job, ErrorCode.INTERNAL_ERROR, "intake failed: " + e);
            }
        }
    }

    private void handToALane(Job job) {
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
            answers.error(job, ErrorCode.INTERNAL_ERROR, "no lane could take the request");
        }
    }

    /**
     * Acknowledged jobs → committable offsets; exactly-once: → held answers, and those the committable
     * prefix covers written into the open transaction. An answer the tracker does not know (its
     * partition revoked or rewound since) is dropped there: the record's next reading answers it.
     */
    private void takeAcknowledged() {
        Set<TopicPartition> advanced = transactions == null ? null : new HashSet<>();
        for (Job job; (job = acks.poll()) != null; ) {
            live.remove(Job.registryKey(job.partition().partition(), job.offset()), job);
            if (tracker.acknowledged(job.partition(), job.offset()) && advanced != null) {
                transactions.hold(job);
                advanced.add(job.partition());
            }
        }
        if (advanced != null) {
            for (TopicPartition partition : advanced) {
                transactions.release(partition, tracker.committable(partition));
            }
        }
    }

    /** Exactly-once: commits the open transaction with the committable offsets; on abort reads its partitions again. */
    private void commitTransaction() {
        Transactions.Outcome outcome = transactions.commit(tracker.takeCommittable(), consumer.groupMetadata());
        if (outcome == Transactions.Outcome.ABORTED) {
            rewind(transactions.aborted());
        } else if (outcome == Transactions.Outcome.FATAL) {
            acks.fatal(transactions.failure());
        }
    }

    /**
     * After an abort: reads {@code partitions} again from the offsets last committed. Jobs of theirs
     * still in the pipeline stay live; a record polled again joins its job, as after a rebalance.
     */
    private void rewind(Set<TopicPartition> partitions) {
        Set<TopicPartition> assignment = consumer.assignment();
        for (TopicPartition partition : partitions) {
            tracker.forget(partition);
            boolean mine = assignment.contains(partition);
            Long offset = transactions.restartOffset(partition);
            transactions.forget(partition, mine);
            if (mine && offset != null) {
                consumer.seek(partition, offset);
                LOG.info("event=partition_rewound partition={} offset={}", partition, offset);
            }
        }
    }

    /** Acknowledgements → commits; in-flight bound → pause/resume. */
    private void settle() {
        takeAcknowledged();
        if (transactions != null) {
            if (transactions.due(System.nanoTime())) {
                commitTransaction();
            }
        } else {
            commitAsync();
        }
        // Exactly-once: held answers count too (they are in memory until written), and live jobs of
        // rewound partitions, which the tracker forgot but the lanes still hold.
        int inFlight = transactions == null ? tracker.inFlight()
                : Math.max(tracker.inFlight(), live.size()) + transactions.held();
        pauseOrResume(inFlight);
    }

    private void commitAsync() {
        Map<TopicPartition, OffsetAndMetadata> commits = tracker.takeCommittable();
        if (!commits.isEmpty()) {
            // The callback runs on this thread, inside a later poll or commit.
            consumer.commitAsync(commits, (offsets, e) -> {
                if (e != null) {
                    metrics.commitFailed();
                    tracker.commitFailed(offsets);
                    long now = System.nanoTime();
                    // While the broker is away this fails every poll (50 ms): log once per 10 s, with the count.
                    if (now - commitWarnedNs > 10_000_000_000L) {
                        LOG.warn("event=commit_failed offsets={} error=\"{}\" failures_since_last_warning={}"
                                + " effect=\"retried with the next commit\"", offsets, e.toString(), commitFailures + 1);
                        commitWarnedNs = now;
                        commitFailures = 0;
                    } else {
                        commitFailures++;
                    }
                }
            });
        }
    }

    private void pauseOrResume(int inFlight) {
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
     * Waits until {@code deadlineMs} for the results of {@code partitions} (all if null), commits
     * what is done, and forgets what is not (the partition's next owner reads it again).
     */
    private void drain(Collection<TopicPartition> partitions, long deadlineMs) {
        while (pending(partitions) > 0 && System.currentTimeMillis() < deadlineMs && acks.fatal() == null) {
            takeAcknowledged();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        takeAcknowledged();
        if (transactions != null) {
            // Before the revocation completes: the next owner then starts after what this one committed.
            if (acks.fatal() == null) {
                commitTransaction();
            }
        } else {
            Map<TopicPartition, OffsetAndMetadata> commits = tracker.takeCommittable();
            if (!commits.isEmpty()) {
                commitFinal(commits, deadlineMs);
            }
        }
        int abandoned = pending(partitions);
        if (abandoned > 0) {
            LOG.warn("event=in_flight_abandoned count={} effect=\"uncommitted: they will be processed again\"", abandoned);
        }
        if (partitions != null) {
            forget(partitions);
        }
    }

    private void forget(Collection<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            tracker.forget(partition);
            if (transactions != null) {
                transactions.forget(partition, false);
            }
        }
    }

    /** commitSync within the budget; a wakeup still pending from {@link #stop()} must not cost the commit. */
    private void commitFinal(Map<TopicPartition, OffsetAndMetadata> commits, long deadlineMs) {
        for (int attempt = 0; attempt < 2; attempt++) {
            long budgetMs = Math.max(1, Math.min(MAX_COMMIT_MS, deadlineMs - System.currentTimeMillis()));
            try {
                consumer.commitSync(commits, Duration.ofMillis(budgetMs));
                return;
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                // consumed the wakeup; the second attempt runs undisturbed
            } catch (RuntimeException e) {
                metrics.commitFailed();
                LOG.warn("event=commit_failed offsets={} error=\"{}\"", commits, e.toString());
                return;
            }
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

    /**
     * Exactly-once: reads what the last commit of each newly assigned partition says is answered above
     * its offset ({@link AnsweredAhead}), before any of its records is polled. Read committed (KIP-447:
     * a read_committed consumer waits for an open transaction's offsets to settle), as the position is.
     */
    private void answeredAhead(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> committed = null;
        for (int attempt = 1; committed == null; attempt++) {
            try {
                committed = consumer.committed(new HashSet<>(partitions));
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                // A previous owner's open transaction holds these offsets until it ends (its worker restarts and
                // aborts it, or transaction.timeout.ms passes): reading the partition waits for the same anyway.
                LOG.warn("event=committed_offsets_unsettled partitions={} attempt={} error=\"{}\" effect=\"waiting for a"
                        + " previous owner's transaction to end\"", partitions, attempt, e.toString());
                if (!running) {
                    throw e;
                }
            }
        }
        for (TopicPartition partition : partitions) {
            OffsetAndMetadata last = committed.get(partition);
            if (last == null) {
                continue;
            }
            Set<Long> answered;
            try {
                answered = AnsweredAhead.decode(last.offset(), last.metadata());
            } catch (IllegalArgumentException e) {
                LOG.warn("event=offset_metadata_invalid partition={} offset={} error=\"{}\" effect=\"every record from the"
                        + " offset on is answered, so results committed ahead of it may appear twice\"", partition,
                        last.offset(), e.getMessage());
                answered = Set.of();
            }
            transactions.assigned(partition, last.offset(), answered);
            if (!answered.isEmpty()) {
                LOG.info("event=partition_answered_ahead partition={} offset={} answered_ahead={}", partition,
                        last.offset(), answered.size());
            }
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            LOG.info("event=partitions_revoked partitions={} in_flight={}", partitions, pending(partitions));
            drain(partitions, System.currentTimeMillis() + drainTimeoutMs);
            assigned = Math.max(0, consumer.assignment().size() - partitions.size());
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.info("event=partitions_assigned partitions={}", partitions);
            if (transactions != null && !partitions.isEmpty()) {
                answeredAhead(partitions);
            }
            assigned = consumer.assignment().size();
            if (paused) {
                Set<TopicPartition> all = new HashSet<>(consumer.assignment());
                consumer.pause(all);
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            LOG.warn("event=partitions_lost partitions={}", partitions);
            forget(partitions);
            if (transactions != null) {
                // Its offsets could not commit any more (the group moved on): drop it, read the rest again.
                Transactions.Outcome outcome = transactions.abortOpen("partitions lost: " + partitions);
                if (outcome == Transactions.Outcome.ABORTED) {
                    Set<TopicPartition> rewound = new HashSet<>(transactions.aborted());
                    rewound.removeAll(partitions);
                    rewind(rewound);
                } else if (outcome == Transactions.Outcome.FATAL) {
                    acks.fatal(transactions.failure());
                }
            }
        }
    }
}
