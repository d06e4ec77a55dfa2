package io.inferencefleet.shm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadFactory;

/**
 * Immutable, validated configuration of one worker's tensor queue. Build with {@link #builder()};
 * {@link Builder#build()} validates every key once and fails with
 * {@code "Invalid value X for NAME: why"}.
 *
 * <p>Capacity is the bound on committed-but-not-yet-consumed data relative to the slowest
 * configured reader, in bytes ({@code capacityBytes}) and in tensors ({@code capacityTensors});
 * whichever is reached first back-pressures the writer. The files on disk are bounded by that plus
 * one roll cycle of data (cycles are deleted once every reader has moved past them) plus the
 * pre-fault window.
 */
public final class TensorQueueConfig {
    /** Default parent of worker directories: tmpfs, so "files" are shared memory. */
    public static final Path DEFAULT_ROOT = Path.of("/dev/shm/inference-fleet");
    /** Roll-cycle lengths Chronicle Queue offers that we accept (see {@code rollCycleMs}). */
    public static final List<Integer> SUPPORTED_ROLL_CYCLE_MS = List.of(1_000, 5 * 60_000, 10 * 60_000);

    private final String workerId;
    private final Path directory;
    private final long capacityBytes;
    private final int capacityTensors;
    private final int maxTensorBytes;
    private final int maxRequestKeyBytes;
    private final int rollCycleMs;
    private final long prefaultAheadBytes;
    private final long idleParkNs;
    private final long housekeepingIntervalNs;
    private final List<String> readerNames;
    private final ThreadFactory housekeeperThreadFactory;
    private final int housekeeperNice;

    private TensorQueueConfig(Builder b) {
        this.workerId = b.workerId;
        this.directory = b.directory != null ? b.directory : DEFAULT_ROOT.resolve(b.workerId);
        this.capacityBytes = b.capacityBytes;
        this.capacityTensors = b.capacityTensors;
        this.maxTensorBytes = b.maxTensorBytes;
        this.maxRequestKeyBytes = b.maxRequestKeyBytes;
        this.rollCycleMs = b.rollCycleMs;
        this.prefaultAheadBytes = b.prefaultAheadBytes;
        this.idleParkNs = b.idleParkNs;
        this.housekeepingIntervalNs = b.housekeepingIntervalNs;
        this.readerNames = Collections.unmodifiableList(new ArrayList<>(b.readerNames));
        this.housekeeperThreadFactory = b.housekeeperThreadFactory;
        this.housekeeperNice = b.housekeeperNice;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Worker id; names the default directory {@code /dev/shm/inference-fleet/<workerId>}. */
    public String workerId() { return workerId; }
    /** Directory owned by one worker; created 0700, its files 0600. */
    public Path directory() { return directory; }
    /** Bound on unconsumed bytes (records incl. metadata and alignment padding). */
    public long capacityBytes() { return capacityBytes; }
    /** Bound on unconsumed tensors. */
    public int capacityTensors() { return capacityTensors; }
    /** Largest tensor a writer may claim. */
    public int maxTensorBytes() { return maxTensorBytes; }
    /** Room reserved in each record for the request key (UTF-8). */
    public int maxRequestKeyBytes() { return maxRequestKeyBytes; }
    /** Chronicle roll-cycle length; consumed cycles are deleted whole. */
    public int rollCycleMs() { return rollCycleMs; }
    /** How far ahead of the writer a background thread pre-faults pages; 0 disables. */
    public long prefaultAheadBytes() { return prefaultAheadBytes; }
    /** Park time of the default reader idle strategy. */
    public long idleParkNs() { return idleParkNs; }
    /**
     * Idle sleep of the housekeeping thread: how often consumed cycles are checked for deletion.
     * Pre-faulting does not wait for it; each claim wakes the housekeeper.
     */
    public long housekeepingIntervalNs() { return housekeepingIntervalNs; }
    /** Readers the writer waits for; back-pressure is relative to the slowest of them. */
    public List<String> readerNames() { return readerNames; }
    /**
     * Creates the housekeeping thread (pre-faulting, deletion); the place to pin it, e.g. next to
     * the writer, away from latency-critical readers. The thread is named after its role.
     */
    public ThreadFactory housekeeperThreadFactory() { return housekeeperThreadFactory; }
    /** Linux nice value of the housekeeping thread (0 = unchanged); it must yield to writer and readers. */
    public int housekeeperNice() { return housekeeperNice; }

    @Override
    public String toString() {
        return "workerId=" + workerId + " directory=" + directory + " capacityBytes=" + capacityBytes
                + " capacityTensors=" + capacityTensors + " maxTensorBytes=" + maxTensorBytes
                + " maxRequestKeyBytes=" + maxRequestKeyBytes + " rollCycleMs=" + rollCycleMs
                + " prefaultAheadBytes=" + prefaultAheadBytes + " idleParkNs=" + idleParkNs
                + " housekeepingIntervalNs=" + housekeepingIntervalNs + " housekeeperNice=" + housekeeperNice
                + " readerNames=" + readerNames;
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private String workerId = "worker-0";
        private Path directory;
        private long capacityBytes = 64L * 1024 * 1024;
        private int capacityTensors = 64;
        private int maxTensorBytes = 3 * 224 * 224 * 4;
        private int maxRequestKeyBytes = 176;
        private int rollCycleMs = 1_000;
        private long prefaultAheadBytes = 4L * 1024 * 1024;
        private long idleParkNs = 10_000;
        private long housekeepingIntervalNs = 10_000_000;
        private Set<String> readerNames = new LinkedHashSet<>(List.of("predictor"));
        private ThreadFactory housekeeperThreadFactory = Thread::new;
        private int housekeeperNice = 10;

        private Builder() {}

        public Builder workerId(String v) { workerId = v; return this; }
        public Builder directory(Path v) { directory = v; return this; }
        public Builder capacityBytes(long v) { capacityBytes = v; return this; }
        public Builder capacityTensors(int v) { capacityTensors = v; return this; }
        public Builder maxTensorBytes(int v) { maxTensorBytes = v; return this; }
        public Builder maxRequestKeyBytes(int v) { maxRequestKeyBytes = v; return this; }
        public Builder rollCycleMs(int v) { rollCycleMs = v; return this; }
        public Builder prefaultAheadBytes(long v) { prefaultAheadBytes = v; return this; }
        public Builder idleParkNs(long v) { idleParkNs = v; return this; }
        public Builder housekeepingIntervalNs(long v) { housekeepingIntervalNs = v; return this; }
        public Builder readerNames(String... v) { readerNames = new LinkedHashSet<>(List.of(v)); return this; }
        public Builder housekeeperThreadFactory(ThreadFactory v) { housekeeperThreadFactory = v; return this; }
        public Builder housekeeperNice(int v) { housekeeperNice = v; return this; }

        /** Validates every key and returns the immutable configuration. */
        public TensorQueueConfig build() {
            if (workerId == null || !workerId.matches("[A-Za-z0-9._-]{1,64}")) {
                throw invalid(workerId, "workerId", "must be 1-64 characters of [A-Za-z0-9._-]");
            }
            if (maxTensorBytes < 1 || maxTensorBytes > TensorQueueLimits.MAX_TENSOR_BYTES) {
                throw invalid(maxTensorBytes, "maxTensorBytes",
                        "must be in [1, " + TensorQueueLimits.MAX_TENSOR_BYTES + "] (a tensor must fit one mapping overlap)");
            }
            if (maxRequestKeyBytes < 0 || maxRequestKeyBytes > 4096) {
                throw invalid(maxRequestKeyBytes, "maxRequestKeyBytes", "must be in [0, 4096]");
            }
            if (capacityTensors < 1) {
                throw invalid(capacityTensors, "capacityTensors", "must be at least 1");
            }
            if (capacityBytes < maxTensorBytes) {
                throw invalid(capacityBytes, "capacityBytes", "must hold at least one tensor of maxTensorBytes=" + maxTensorBytes);
            }
            if (!SUPPORTED_ROLL_CYCLE_MS.contains(rollCycleMs)) {
                throw invalid(rollCycleMs, "rollCycleMs", "must be one of " + SUPPORTED_ROLL_CYCLE_MS);
            }
            if (prefaultAheadBytes < 0 || prefaultAheadBytes > 256L * 1024 * 1024) {
                throw invalid(prefaultAheadBytes, "prefaultAheadBytes", "must be in [0, 268435456]");
            }
            if (idleParkNs < 0 || idleParkNs > 1_000_000_000L) {
                throw invalid(idleParkNs, "idleParkNs", "must be in [0, 1000000000]");
            }
            if (housekeepingIntervalNs < 10_000 || housekeepingIntervalNs > 1_000_000_000L) {
                throw invalid(housekeepingIntervalNs, "housekeepingIntervalNs", "must be in [10000, 1000000000]");
            }
            if (readerNames.isEmpty() || readerNames.size() > TensorQueueLimits.MAX_READERS) {
                throw invalid(readerNames, "readerNames", "must name 1-" + TensorQueueLimits.MAX_READERS + " readers");
            }
            for (String name : readerNames) {
                if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) {
                    throw invalid(name, "readerNames", "each must be 1-64 characters of [A-Za-z0-9._-]");
                }
            }
            if (housekeeperNice < 0 || housekeeperNice > 19) {
                throw invalid(housekeeperNice, "housekeeperNice", "must be in [0, 19] (raising priority needs privileges)");
            }
            if (housekeeperThreadFactory == null) {
                throw invalid(null, "housekeeperThreadFactory", "must not be null");
            }
            return new TensorQueueConfig(this);
        }

        private static IllegalArgumentException invalid(Object value, String key, String why) {
            return new IllegalArgumentException("Invalid value " + value + " for " + key + ": " + why);
        }
    }
}
