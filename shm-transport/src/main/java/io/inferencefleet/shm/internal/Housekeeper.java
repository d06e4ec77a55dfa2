package io.inferencefleet.shm.internal;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.LockSupport;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.posix.PosixAPI;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.status.AtomicCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's background duty cycle, on its own thread:
 *
 * <ul>
 *   <li>Pre-faulting: {@code madvise(MADV_POPULATE_WRITE)} on the writer's own mapping, just ahead
 *       of the position the writer published, so the writer's next tensor lands on pages that are
 *       already allocated, zeroed and mapped. madvise never changes content, so racing the writer
 *       is harmless; if the range was unmapped meanwhile it simply fails.
 *   <li>Deleting consumed cycles: a cycle file is deleted once the writer and every reader have
 *       moved to a later cycle. Done here rather than in Chronicle's {@code onReleased} callback,
 *       where deleting logs a spurious ERROR.
 * </ul>
 */
final class Housekeeper implements Agent {
    private static final Logger LOG = LoggerFactory.getLogger(Housekeeper.class);
    /** Linux 5.14+: populate page tables writable, allocating pages as a write fault would. */
    static final int MADV_POPULATE_WRITE = 23;
    private static final long PREFAULT_STEP_BYTES = 256 * 1024;
    private static final long PAGE = 4096;

    private final String name;
    private final SingleChronicleQueue queue;
    private final ChronicleTensorWriter writer;
    private final AtomicCounter[] readerCycles;
    private final AtomicCounter cyclesDeleted;
    private final AtomicCounter prefaultedBytes;
    private final AtomicCounter prefaultFailureCounter;
    private final int nice;
    private final long prefaultAheadBytes;
    private final long deletionIntervalNs;
    private final Map<Integer, File> cycleFiles = new ConcurrentSkipListMap<>();
    private long lastDeletionNs;
    private long prefaultedUpTo;
    private boolean prefaultUnsupported;
    private long prefaultFailures;

    Housekeeper(String name, SingleChronicleQueue queue, ChronicleTensorWriter writer, AtomicCounter[] readerCycles,
            AtomicCounter cyclesDeleted, AtomicCounter prefaultedBytes, AtomicCounter prefaultFailureCounter, int nice, long prefaultAheadBytes, long deletionIntervalNs) {
        this.name = name;
        this.queue = queue;
        this.writer = writer;
        this.readerCycles = readerCycles;
        this.cyclesDeleted = cyclesDeleted;
        this.prefaultedBytes = prefaultedBytes;
        this.prefaultFailureCounter = prefaultFailureCounter;
        this.nice = nice;
        this.prefaultAheadBytes = prefaultAheadBytes;
        this.deletionIntervalNs = deletionIntervalNs;
    }

    /** Called from Chronicle's store-file listener. */
    void onCycleFileAcquired(int cycle, File file) {
        cycleFiles.putIfAbsent(cycle, file);
    }

    private volatile Thread thread;

    @Override
    public void onStart() {
        thread = Thread.currentThread();
        // Deleting a consumed cycle frees ~150 pages per tensor in one burst; at normal priority
        // that burst delays the writer and readers on a 2-CPU box. A higher nice value lets them
        // preempt it; pre-faulting that lags just means the writer faults itself.
        if (nice != 0 && !ThreadPriority.setCurrentThreadNice(nice)) {
            LOG.warn("event=housekeeperNiceFailed queue={} nice={}", name, nice);
        }
    }

    /**
     * Called by the writer after each claim: wakes the housekeeper early from its idle sleep so
     * pre-faulting starts at once, instead of it polling (timer wake-ups cost more CPU than the
     * one unpark per tensor on these VMs).
     */
    void wake() {
        Thread t = thread;
        if (t != null && prefaultAheadBytes > 0) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public int doWork() {
        int work = prefault();
        long now = System.nanoTime();
        if (now - lastDeletionNs >= deletionIntervalNs) {
            lastDeletionNs = now;
            work += deleteConsumedCycles();
        }
        return work;
    }

    private int prefault() {
        if (prefaultAheadBytes == 0 || prefaultUnsupported) {
            return 0;
        }
        long from = writer.nextWriteAddress();
        if (from == 0) {
            return 0;
        }
        long end = (from + prefaultAheadBytes + PAGE - 1) & -PAGE;  // madvise wants page-aligned starts
        if (prefaultedUpTo < from || prefaultedUpTo > end) {
            prefaultedUpTo = (from + PAGE - 1) & -PAGE;  // writer moved on, or to another mapping
        }
        if (prefaultedUpTo >= end) {
            return 0;
        }
        long length = Math.min(PREFAULT_STEP_BYTES, end - prefaultedUpTo);
        long start0 = prefaultedUpTo;
        int rc = PosixAPI.posix().madvise(prefaultedUpTo, length, MADV_POPULATE_WRITE);
        if (rc != 0) {
            // Range unmapped under us (the writer rolled or remapped), or a kernel without it.
            prefaultedUpTo = end;
            prefaultFailureCounter.incrementRelease();
            LOG.debug("event=prefaultFailed queue={} start={} length={} rc={} errno={}", name, Long.toHexString(start0), length, rc,
                    PosixAPI.posix().lastError());
            if (++prefaultFailures > 1_000 && prefaultedBytes.get() == 0) {
                prefaultUnsupported = true;
                LOG.warn("event=prefaultDisabled queue={} reason=\"madvise(MADV_POPULATE_WRITE) never succeeded\"", name);
            }
            return 0;
        }
        prefaultedUpTo += length;
        prefaultedBytes.getAndAddPlain(length);
        return 1;
    }

    private int deleteConsumedCycles() {
        int writerCycle = writer.currentCycle();
        int minCycle = writerCycle;
        for (AtomicCounter c : readerCycles) {
            minCycle = (int) Math.min(minCycle, c.get());
        }
        int deleted = 0;
        for (Map.Entry<Integer, File> e : cycleFiles.entrySet()) {
            if (e.getKey() >= minCycle) {
                break;
            }
            try {
                Files.deleteIfExists(e.getValue().toPath());
                cycleFiles.remove(e.getKey());
                cyclesDeleted.incrementOrdered();
                deleted++;
                LOG.debug("event=cycleDeleted queue={} cycle={} file={}", name, e.getKey(), e.getValue().getName());
            } catch (IOException ex) {
                LOG.warn("event=cycleDeleteFailed queue={} cycle={} error=\"{}\"", name, e.getKey(), ex.toString());
            }
        }
        if (deleted > 0) {
            queue.refreshDirectoryListing();
        }
        return deleted;
    }

    @Override
    public String roleName() {
        return "shm-housekeeper-" + name;
    }
}
