package io.inferencefleet.worker.intake;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.job.RefusedRecords;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionCoordinatorFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code delivery.guarantee=exactly-once}: the worker's results, dead-letter copies and consumer
 * offsets written in one Kafka transaction (KIP-98), fenced by the consumer group's metadata
 * (KIP-447), the way Kafka Streams' EOS v2 does it. Used by the intake thread only: KafkaProducer's
 * transaction calls must come from one thread, and the intake thread already owns the consumer whose
 * {@code groupMetadata()} each commit needs and whose rebalance callbacks must commit or abort
 * before a revocation completes. Answering threads never touch the producer: they stage their
 * records on the job ({@code StagingSink}), and the intake writes them here.
 *
 * <p>A result is written as soon as it is answered, whatever the state of the earlier records of its
 * partition: a slow request does not hold back the ones after it. Each commit's offsets then say, per
 * partition, where the first unanswered record is and, in the offset metadata ({@link AnsweredAhead}),
 * which records above it are answered already; offsets, metadata and results commit together, so the
 * next reader of the partition (this worker after an abort, another after a rebalance or a crash)
 * skips exactly the records whose results are committed. (Were record 11's result committed with
 * offsets up to 10 and nothing more, a crash would answer 11 a second time.) An answer more than
 * {@link AnsweredAhead#MAX_SPAN} offsets above the first unanswered record is {@linkplain #hold held}
 * until that record is answered, so that the metadata stays bounded; the intake counts held answers
 * as in flight, so that they stay within {@code max.in.flight}.
 *
 * <pre>{@code
 * tx.init();                                   // once, before the first poll: fences an earlier incarnation
 * tx.assigned(tp, committed, answeredAhead);   // each assigned partition: what its last commit said
 * tx.accepted(tp, offset);                     // each polled record; tx.answeredBefore(tp, offset): skip it
 * tx.hold(job); tx.release(tp, committable);   // each answer; release writes it (within MAX_SPAN)
 * if (tx.due(now)) tx.commit(tracker.takeCommittable(), consumer.groupMetadata());
 * // on ABORTED: rewind tx.aborted() partitions to tx.restartOffset(tp)
 * }</pre>
 *
 * <p>A {@code transactional.id} per worker (derived from {@code worker.id}) is enough: since KIP-447
 * a zombie is fenced by the group's generation in {@code sendOffsetsToTransaction}, not by a
 * transactional id per input partition; the stable id lets a restarted worker abort its crashed
 * incarnation's open transaction at once ({@code initTransactions}) instead of after
 * {@code transaction.timeout.ms}.
 */
public final class Transactions implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Transactions.class);
    /** A commit whose outcome is unknown (timed out) is retried, never aborted: it may have committed. */
    private static final int COMMIT_ATTEMPTS = 5;

    /** What a commit came to. */
    enum Outcome {
        /** Nothing was open, or results and offsets are committed. */
        COMMITTED,
        /** Aborted: the partitions of {@link #aborted()} must be read again from {@link #restartOffset}. */
        ABORTED,
        /** Kafka fenced this producer or refused it: the worker must stop ({@link #failure()}). */
        FATAL
    }

    private final Producer<byte[], byte[]> producer;
    private final long intervalNs;
    private final int maxResults;
    private final WorkerMetrics metrics;
    private final RefusedRecords refused;
    /** Answered jobs more than MAX_SPAN above the first unanswered record of their partition, by offset. */
    private final Map<TopicPartition, TreeMap<Long, Job>> held = new HashMap<>();
    private int heldCount;
    /** Per partition, where reading starts again after an abort: the offset last committed (or first read). */
    private final Map<TopicPartition, Long> restart = new HashMap<>();
    /** Per partition, the records above {@link #restart} whose results are committed (the last commit's metadata). */
    private final Map<TopicPartition, Set<Long>> restartAhead = new HashMap<>();
    /** Per partition, the first unanswered record (the tracker's committable offset), as last {@linkplain #release released}. */
    private final Map<TopicPartition, Long> firstUnanswered = new HashMap<>();
    /** Per partition, records at or above the first unanswered one whose results are committed or in the open transaction. */
    private final Map<TopicPartition, TreeSet<Long>> ahead = new HashMap<>();
    /** The results of the open transaction, counted when it commits (fleet_requests_total). */
    private final List<InferenceResult> outcomes = new ArrayList<>();
    /** Partitions with results in the open transaction. */
    private final Set<TopicPartition> touched = new HashSet<>();
    private final Set<TopicPartition> aborted = new HashSet<>();
    /** The first failed send of the open transaction (set on the producer's I/O thread). */
    private final AtomicReference<Exception> sendFailure = new AtomicReference<>();
    /** A record refused as too large a second time (its replacement too): fatal, not retried. */
    private final AtomicReference<Exception> refusedAgain = new AtomicReference<>();
    private boolean open;
    private long beganNs;
    private int results;
    private Throwable failure;

    /**
     * @param producer a transactional producer (its {@code transactional.id} set); owned and closed here
     * @param intervalMs {@code transaction.interval.ms}: a transaction commits this long after its first record
     * @param maxResults {@code transaction.max.results}: or as soon as it holds this many answers
     */
    public Transactions(Producer<byte[], byte[]> producer, long intervalMs, int maxResults, WorkerMetrics metrics) {
        this(producer, intervalMs, maxResults, metrics, new RefusedRecords());
    }

    /** @param refused where a record the broker refuses as too large is noted for its next answer ({@code StagingSink}) */
    public Transactions(Producer<byte[], byte[]> producer, long intervalMs, int maxResults, WorkerMetrics metrics,
                        RefusedRecords refused) {
        this.refused = refused;
        this.producer = producer;
        this.intervalNs = intervalMs * 1_000_000L;
        this.maxResults = maxResults;
        this.metrics = metrics;
    }

    /** Registers the producer's transactional id, aborting what an earlier producer with the same id left open. */
    void init() {
        producer.initTransactions();
    }

    /**
     * A partition was assigned: its last commit said that reading starts at {@code committed} and that
     * the records of {@code answeredAhead} above it are answered (their results committed).
     */
    void assigned(TopicPartition partition, long committed, Set<Long> answeredAhead) {
        restart.put(partition, committed);
        restartAhead.put(partition, Set.copyOf(answeredAhead));
        ahead.put(partition, new TreeSet<>(answeredAhead));
        firstUnanswered.put(partition, committed);
    }

    /** A record was polled: the first one of a partition since its assignment is where an abort rewinds to. */
    void accepted(TopicPartition partition, long offset) {
        restart.putIfAbsent(partition, offset);
        firstUnanswered.putIfAbsent(partition, offset);
    }

    /** The record's result is committed already (an earlier reading answered it ahead of an unanswered one): skip it. */
    boolean answeredBefore(TopicPartition partition, long offset) {
        TreeSet<Long> answered = ahead.get(partition);
        return answered != null && answered.contains(offset);
    }

    /** {@code job} is answered (and the tracker knows it): its records wait for {@link #release}. */
    void hold(Job job) {
        if (held.computeIfAbsent(job.partition(), p -> new TreeMap<>()).put(job.offset(), job) == null) {
            heldCount++;
        }
    }

    /**
     * Writes the held answers of {@code partition} that its commit's metadata can describe: those below
     * {@code committable} (the first unanswered record; -1 while none of the partition is answered) +
     * {@link AnsweredAhead#MAX_SPAN}.
     */
    void release(TopicPartition partition, long committable) {
        long first = Math.max(committable, firstUnanswered.getOrDefault(partition, committable));
        firstUnanswered.put(partition, first);
        TreeMap<Long, Job> jobs = held.get(partition);
        if (jobs == null) {
            return;
        }
        for (Iterator<Map.Entry<Long, Job>> it = jobs.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Job> e = it.next();
            if (first < 0 || e.getKey() - first >= AnsweredAhead.MAX_SPAN) {
                break;
            }
            it.remove();
            heldCount--;
            write(e.getValue());
        }
    }

    private void write(Job job) {
        if (!open) {
            open = true;
            beganNs = System.nanoTime();
            results = 0;
            sendFailure.set(null);
            try {
                producer.beginTransaction();
            } catch (KafkaException e) {
                // Fenced or failed before it began: commit() finds out and decides (nothing is sent).
                sendFailure.set(e);
            }
        }
        touched.add(job.partition());
        ahead.computeIfAbsent(job.partition(), p -> new TreeSet<>()).add(job.offset());
        results++;
        if (job.stagedOutcome() != null) {
            outcomes.add(job.stagedOutcome());
        }
        for (ProducerRecord<byte[], byte[]> record : job.stagedRecords()) {
            try {
                producer.send(record, (metadata, e) -> {
                    if (e != null) {
                        if (perRecord(e) && !refused.refused(job.partition(), job.offset(), record.topic())) {
                            refusedAgain.set(e);
                        }
                        // Aborts the transaction (any failed send does); a refused record's next answer avoids it.
                        sendFailure.compareAndSet(null, e);
                    }
                });
            } catch (RuntimeException e) {
                // The producer is fenced or failed (or the transaction never began); commit() finds out and decides.
                sendFailure.compareAndSet(null, e);
            }
        }
    }

    /** Answers held back, too far above an unanswered record (in flight for back-pressure). */
    int held() {
        return heldCount;
    }

    /** How long from {@code nowNs} until the open transaction is {@linkplain #due due}, at most {@code maxNs}. */
    long untilDue(long nowNs, long maxNs) {
        if (!open) {
            return maxNs;
        }
        return results >= maxResults ? 0 : Math.max(0, Math.min(maxNs, beganNs + intervalNs - nowNs));
    }

    /** The open transaction is old enough ({@code transaction.interval.ms}) or full ({@code transaction.max.results}). */
    boolean due(long nowNs) {
        return open && (nowNs - beganNs >= intervalNs || results >= maxResults);
    }

    boolean isOpen() {
        return open;
    }

    /**
     * Commits the open transaction with {@code advanced} (the tracker's committable offsets that moved
     * up) and, for every partition it wrote to, the first unanswered record and the records above it
     * that are answered ({@link AnsweredAhead}): exactly the records whose results are written. On a
     * failure that leaves the transaction uncommitted it is aborted ({@link Outcome#ABORTED}); fencing
     * and refusals are {@link Outcome#FATAL}.
     */
    Outcome commit(Map<TopicPartition, OffsetAndMetadata> advanced, ConsumerGroupMetadata group) {
        if (!open) {
            // Nothing written since the last commit: offsets can only have moved over records skipped as
            // answered before, and the last commit (its offset and metadata) still says that of them.
            return Outcome.COMMITTED;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = withAnsweredAhead(advanced);
        long startNs = System.nanoTime();
        try {
            Exception failedSend = sendFailure.get();
            if (failedSend != null) {
                if (refusedAgain.get() != null) {
                    abort(failedSend);
                    return fail(refusedAgain.get());
                }
                return fatal(failedSend) ? fail(failedSend) : abort(failedSend);
            }
            if (!offsets.isEmpty()) {
                producer.sendOffsetsToTransaction(offsets, group);
            }
        } catch (KafkaException e) {
            return fatal(e) ? fail(e) : abort(e);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                producer.commitTransaction();
                break;
            } catch (TimeoutException | InterruptException e) {
                // The outcome is unknown: it may have committed, so rewinding could duplicate. Resume it.
                LOG.warn("event=transaction_commit_timeout attempt={} error=\"{}\"", attempt, e.toString());
                if (attempt == COMMIT_ATTEMPTS) {
                    return fail(e);
                }
            } catch (KafkaException e) {
                return fatal(e) ? fail(e) : abort(e);
            }
        }
        long endNs = System.nanoTime();
        open = false;
        offsets.forEach((partition, offset) -> {
            restart.put(partition, offset.offset());
            restartAhead.put(partition, Set.copyOf(ahead.getOrDefault(partition, new TreeSet<>())));
        });
        touched.clear();
        outcomes.forEach(metrics::onResult);
        outcomes.clear();
        metrics.transactionCommitted((endNs - beganNs) / 1e9, (endNs - startNs) / 1e9, results);
        return Outcome.COMMITTED;
    }

    /** {@code advanced} and the partitions written to, each with the records above its offset that are answered. */
    private Map<TopicPartition, OffsetAndMetadata> withAnsweredAhead(Map<TopicPartition, OffsetAndMetadata> advanced) {
        Set<TopicPartition> partitions = new HashSet<>(advanced.keySet());
        partitions.addAll(touched);
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : partitions) {
            OffsetAndMetadata moved = advanced.get(partition);
            long first = moved != null ? moved.offset() : firstUnanswered.getOrDefault(partition, restart.get(partition));
            TreeSet<Long> answered = ahead.computeIfAbsent(partition, p -> new TreeSet<>());
            answered.headSet(first).clear();
            offsets.put(partition, new OffsetAndMetadata(first, AnsweredAhead.encode(first, answered)));
        }
        return offsets;
    }

    /** Aborts the open transaction (partitions lost, or on stop with nothing to commit). */
    Outcome abortOpen(String why) {
        return open ? abort(new KafkaException(why)) : Outcome.COMMITTED;
    }

    private Outcome abort(Exception cause) {
        LOG.warn("event=transaction_aborting results={} partitions={} cause=\"{}\" effect=\"their records are"
                + " processed again\"", results, touched, cause.toString());
        try {
            producer.abortTransaction();
        } catch (KafkaException e) {
            return fail(e);
        }
        open = false;
        aborted.clear();
        aborted.addAll(touched);
        touched.clear();
        outcomes.clear();
        metrics.transactionAborted();
        return Outcome.ABORTED;
    }

    private Outcome fail(Throwable e) {
        LOG.error("event=transaction_failed fenced={} error=\"{}\" effect=\"the worker stops; nothing of the open"
                + " transaction is visible to read_committed readers\"", fenced(e), e.toString());
        failure = e;
        open = false;
        outcomes.clear();
        return Outcome.FATAL;
    }

    /** The partitions whose results the last {@link Outcome#ABORTED} transaction dropped. */
    Set<TopicPartition> aborted() {
        return Set.copyOf(aborted);
    }

    /** Where {@code partition} is read again from after an abort. */
    Long restartOffset(TopicPartition partition) {
        return restart.get(partition);
    }

    /** What ended the transactions ({@link Outcome#FATAL}), or null. */
    Throwable failure() {
        return failure;
    }

    /**
     * Forgets a partition that is no longer this worker's (revoked, lost), or that is read again from its
     * last commit ({@code rewound}: what that commit said is answered is skipped again, nothing more).
     */
    void forget(TopicPartition partition, boolean rewound) {
        TreeMap<Long, Job> jobs = held.remove(partition);
        if (jobs != null) {
            heldCount -= jobs.size();
        }
        if (rewound && restart.containsKey(partition)) {
            ahead.put(partition, new TreeSet<>(restartAhead.getOrDefault(partition, Set.of())));
            firstUnanswered.put(partition, restart.get(partition));
        } else {
            restart.remove(partition);
            restartAhead.remove(partition);
            ahead.remove(partition);
            firstUnanswered.remove(partition);
        }
    }

    /**
     * Another producer with this transactional id, or a coordinator that aborted this one's transaction
     * after {@code transaction.timeout.ms} (Kafka 4.3 then answers the commit with
     * {@code InvalidTxnStateException}, measured by {@code ExactlyOnceTest}): this worker is a zombie.
     * Restarting it would fence the other instance in turn.
     */
    public static boolean fenced(Throwable e) {
        return e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException
                || e instanceof InvalidTxnStateException || e instanceof TransactionCoordinatorFencedException
                || (e instanceof KafkaException && e.getCause() != null && e.getCause() != e && fenced(e.getCause()));
    }

    /** The broker refused this one record (too large, invalid): a smaller answer would go through. */
    private static boolean perRecord(Throwable e) {
        return e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException
                || e instanceof InvalidRecordException;
    }

    /** Errors after which the producer cannot go on: fencing, refusals. */
    private static boolean fatal(Throwable e) {
        return fenced(e) || e instanceof AuthenticationException || e instanceof AuthorizationException
                || e instanceof UnsupportedVersionException || e instanceof FencedInstanceIdException;
    }

    /** Closes the producer (an open transaction is aborted by the coordinator or the next incarnation). */
    @Override
    public void close() {
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.warn("event=transactional_producer_close_failed error=\"{}\"", e.toString());
        }
    }
}
