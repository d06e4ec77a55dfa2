package io.inferencefleet.worker.intake;

import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.job.RefusedRecords;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
 * <p>Results are written in offset order per input partition, and only up to the first record not
 * yet answered: a transaction's results and its offsets then cover exactly the same records. (Were
 * record 11's result committed with offsets up to 10, a crash would answer 11 a second time.) Answers
 * beyond the first unanswered record are {@linkplain #hold held} until it is answered; the intake
 * counts them as in flight, so that they stay within {@code max.in.flight}.
 *
 * <pre>{@code
 * tx.init();                                   // once, before the first poll: fences an earlier incarnation
 * tx.accepted(tp, offset);                     // each polled record
 * tx.hold(job); tx.release(tp, committable);   // each answer; release sends what the prefix allows
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
    /** Answered jobs waiting for an earlier record of their partition, by offset. */
    private final Map<TopicPartition, TreeMap<Long, Job>> held = new HashMap<>();
    private int heldCount;
    /** Per partition, where reading starts again after an abort: the offset last committed (or first read). */
    private final Map<TopicPartition, Long> restart = new HashMap<>();
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

    /** A record was polled: the first one of a partition since its assignment is where an abort rewinds to. */
    void accepted(TopicPartition partition, long offset) {
        restart.putIfAbsent(partition, offset);
    }

    /** {@code job} is answered (and the tracker knows it): its records wait for {@link #release}. */
    void hold(Job job) {
        if (held.computeIfAbsent(job.partition(), p -> new TreeMap<>()).put(job.offset(), job) == null) {
            heldCount++;
        }
    }

    /** Writes, in offset order, the held answers of {@code partition} below {@code committable}. */
    void release(TopicPartition partition, long committable) {
        TreeMap<Long, Job> jobs = held.get(partition);
        if (jobs == null) {
            return;
        }
        for (Iterator<Map.Entry<Long, Job>> it = jobs.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Job> e = it.next();
            if (e.getKey() >= committable) {
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
        results++;
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

    /** Answers held back behind an unanswered record (in flight for back-pressure). */
    int held() {
        return heldCount;
    }

    /** The open transaction is old enough ({@code transaction.interval.ms}) or full ({@code transaction.max.results}). */
    boolean due(long nowNs) {
        return open && (nowNs - beganNs >= intervalNs || results >= maxResults);
    }

    boolean isOpen() {
        return open;
    }

    /**
     * Commits the open transaction with {@code offsets} (the tracker's committable offsets: exactly the
     * records whose results were written). On a failure that leaves the transaction uncommitted it is
     * aborted ({@link Outcome#ABORTED}); fencing and refusals are {@link Outcome#FATAL}.
     */
    Outcome commit(Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
        if (!open) {
            if (!offsets.isEmpty()) {
                throw new IllegalStateException("offsets " + offsets + " without a transaction");
            }
            return Outcome.COMMITTED;
        }
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
        offsets.forEach((partition, offset) -> restart.put(partition, offset.offset()));
        touched.clear();
        metrics.transactionCommitted((endNs - beganNs) / 1e9, (endNs - startNs) / 1e9, results);
        return Outcome.COMMITTED;
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
        metrics.transactionAborted();
        return Outcome.ABORTED;
    }

    private Outcome fail(Throwable e) {
        LOG.error("event=transaction_failed fenced={} error=\"{}\" effect=\"the worker stops; nothing of the open"
                + " transaction is visible to read_committed readers\"", fenced(e), e.toString());
        failure = e;
        open = false;
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

    /** Forgets a partition that is no longer this worker's (revoked, lost) or that is read again (rewound). */
    void forget(TopicPartition partition, boolean keepRestart) {
        TreeMap<Long, Job> jobs = held.remove(partition);
        if (jobs != null) {
            heldCount -= jobs.size();
        }
        if (!keepRestart) {
            restart.remove(partition);
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
