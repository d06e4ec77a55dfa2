package io.inferencefleet.shm.internal;

import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.shm.TensorQueueConfig;
import io.inferencefleet.shm.TensorQueueLimits;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.shm.TensorWriter;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.StoreFileListener;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.status.AtomicCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires one queue directory: ownership lock, counters file, Chronicle queue, writer, readers and
 * the housekeeping thread. Owner or attached reader-only view. Every resource has one owner here
 * and is released in reverse order by an idempotent {@link #close()}; a failing constructor
 * closes what it opened.
 */
public final class ChronicleTensorQueue implements TensorQueue {
    private static final Logger LOG = LoggerFactory.getLogger(ChronicleTensorQueue.class);

    private final TensorQueueConfig config;
    private final DirectoryOwnership ownership;  // null when attached
    private final CountersFile counters;
    private final SingleChronicleQueue queue;
    private final ChronicleTensorWriter writer;  // null when attached
    private final AgentRunner housekeeperRunner;  // null when attached
    private final Map<String, ChronicleTensorReader> readers = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private ChronicleTensorQueue(TensorQueueConfig config, boolean owner) {
        this.config = config;
        Path dir = config.directory();
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            if (owner) {
                ownership = DirectoryOwnership.acquire(dir);
                opened.add(ownership);
                counters = CountersFile.create(dir.resolve(CountersFile.FILE_NAME));
                Files.setPosixFilePermissions(dir.resolve(CountersFile.FILE_NAME), DirectoryOwnership.FILE_PERMS);
            } else {
                String liveOwner = DirectoryOwnership.requireLiveOwner(dir);
                LOG.debug("event=attach directory={} owner=\"{}\"", dir, liveOwner);
                ownership = null;
                counters = CountersFile.attach(dir.resolve(CountersFile.FILE_NAME));
            }
            opened.add(counters);

            List<String> names = config.readerNames();
            AtomicCounter[] readerTensors = new AtomicCounter[names.size()];
            AtomicCounter[] readerBytes = new AtomicCounter[names.size()];
            AtomicCounter[] readerCycles = new AtomicCounter[names.size()];
            if (owner) {
                for (String name : names) {
                    counters.newCounter(label(name, "tensorsConsumed"), CountersFile.READER_TENSORS);
                    counters.newCounter(label(name, "bytesConsumed"), CountersFile.READER_BYTES);
                    counters.newCounter(label(name, "cycle"), CountersFile.READER_CYCLE);
                    counters.newCounter(label(name, "lastIndex"), CountersFile.READER_LAST_INDEX);
                }
            }
            for (int i = 0; i < names.size(); i++) {
                readerTensors[i] = counters.find(label(names.get(i), "tensorsConsumed"));
                readerBytes[i] = counters.find(label(names.get(i), "bytesConsumed"));
                readerCycles[i] = counters.find(label(names.get(i), "cycle"));
            }

            Housekeeper[] housekeeper = new Housekeeper[1];
            StoreFileListener listener = new StoreFileListener() {
                @Override
                public void onAcquired(int cycle, File file) {
                    // The writer restricts permissions itself when it rolls; this may run late, on
                    // Chronicle's releaser thread, after the file is gone.
                    if (housekeeper[0] != null) {
                        housekeeper[0].onCycleFileAcquired(cycle, file);
                    }
                }

                @Override
                public void onReleased(int cycle, File file) {
                    // Deleting here logs a spurious ERROR in Chronicle; the housekeeper deletes later.
                }
            };
            queue = SingleChronicleQueueBuilder.binary(dir)
                    .rollCycle(rollCycle(config.rollCycleMs()))
                    .blockSize(TensorQueueLimits.BLOCK_SIZE_BYTES)
                    .storeFileListener(listener)
                    .build();
            opened.add(queue);

            if (owner) {
                writer = new ChronicleTensorWriter(queue, config.maxTensorBytes(), config.maxRequestKeyBytes(),
                        config.capacityBytes(), config.capacityTensors(),
                        counters.newCounter("writer.tensorsWritten", CountersFile.TENSORS_WRITTEN),
                        counters.newCounter("writer.bytesWritten", CountersFile.BYTES_WRITTEN),
                        counters.newCounter("writer.backPressureEvents", CountersFile.BACK_PRESSURE_EVENTS),
                        counters.newCounter("queue.depthTensors", CountersFile.QUEUE_DEPTH_TENSORS),
                        counters.newCounter("queue.depthBytes", CountersFile.QUEUE_DEPTH_BYTES),
                        readerTensors, readerBytes);
                housekeeper[0] = new Housekeeper(config.workerId(), queue, writer, readerCycles,
                        counters.newCounter("housekeeper.cyclesDeleted", CountersFile.CYCLES_DELETED),
                        counters.newCounter("housekeeper.prefaultedBytes", CountersFile.PREFAULTED_BYTES),
                        counters.newCounter("housekeeper.prefaultFailures", CountersFile.PREFAULT_FAILURES),
                        config.housekeeperNice(),
                        config.prefaultAheadBytes(), config.housekeepingIntervalNs());
                writer.cycleListener(housekeeper[0]::onCycleFileAcquired);
                writer.claimListener(housekeeper[0]::wake);
                privateFiles(dir);
                // Sleep when idle: a spinning housekeeper would cost more CPU than the faults it saves.
                housekeeperRunner = new AgentRunner(new SleepingIdleStrategy(config.housekeepingIntervalNs()),
                        e -> LOG.error("event=housekeeperError queue={}", config.workerId(), e), null, housekeeper[0]);
                AgentRunner.startOnThread(housekeeperRunner, config.housekeeperThreadFactory());
            } else {
                writer = null;
                housekeeperRunner = null;
            }
            LOG.info("event=queueOpened role={} {}", owner ? "owner" : "attached", config);
        } catch (RuntimeException | IOException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (owner && !opened.isEmpty()) {
                deleteOwnedFiles(dir, (DirectoryOwnership) opened.get(0));
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot open queue in " + dir, e);
        }
    }

    public static ChronicleTensorQueue open(TensorQueueConfig config) {
        return new ChronicleTensorQueue(config, true);
    }

    public static ChronicleTensorQueue attach(TensorQueueConfig config) {
        return new ChronicleTensorQueue(config, false);
    }

    static String label(String reader, String what) {
        return "reader." + reader + "." + what;
    }

    static RollCycle rollCycle(int rollCycleMs) {
        if (rollCycleMs == TestRollCycles.TEST_SECONDLY.lengthInMillis()) {
            return TestRollCycles.TEST_SECONDLY;
        }
        for (RollCycle c : RollCycles.all()) {
            if (c.lengthInMillis() == rollCycleMs) {
                return c;
            }
        }
        throw new IllegalArgumentException("Invalid value " + rollCycleMs + " for rollCycleMs: no Chronicle roll cycle of that length");
    }

    /** Deletes every file but the lock, releases the lock (deleting it), then the empty directory. */
    private static void deleteOwnedFiles(Path dir, DirectoryOwnership ownership) {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (!p.getFileName().toString().equals(DirectoryOwnership.LOCK_FILE)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            LOG.warn("event=cleanupFailed directory={} error=\"{}\"", dir, e.toString());
        }
        ownership.close();
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.debug("event=directoryKept directory={} reason=\"{}\"", dir, e.toString());
        }
    }

    private static void privateFile(Path file) {
        try {
            Files.setPosixFilePermissions(file, DirectoryOwnership.FILE_PERMS);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warn("event=chmodFailed file={} error=\"{}\"", file, e.toString());
        }
    }

    private static void privateFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(Files::isRegularFile).forEach(ChronicleTensorQueue::privateFile);
        }
    }

    @Override
    public TensorWriter writer() {
        if (writer == null) {
            throw new IllegalStateException("only the owner of " + config.directory() + " writes");
        }
        requireOpen();
        return writer;
    }

    @Override
    public TensorReader reader(String name) {
        requireOpen();
        if (!config.readerNames().contains(name)) {
            throw new IllegalArgumentException("Invalid value " + name + " for reader name: not one of readerNames=" + config.readerNames());
        }
        ChronicleTensorReader created = new ChronicleTensorReader(name, queue,
                counters.find(label(name, "tensorsConsumed")), counters.find(label(name, "bytesConsumed")),
                counters.find(label(name, "cycle")), counters.find(label(name, "lastIndex")), () -> readers.remove(name));
        if (readers.putIfAbsent(name, created) != null) {
            throw new IllegalStateException("reader " + name + " is already open in this process");
        }
        return created;
    }

    @Override
    public IdleStrategy newReaderIdleStrategy() {
        return new BackoffIdleStrategy(100, 10, Math.min(1_000, config.idleParkNs()), config.idleParkNs());
    }

    @Override
    public Path directory() {
        return config.directory();
    }

    @Override
    public boolean isOwner() {
        return ownership != null;
    }

    private void requireOpen() {
        if (closed.get()) {
            throw new IllegalStateException("queue " + config.directory() + " is closed");
        }
    }

    /**
     * Stops housekeeping, closes readers and the queue, unmaps counters; the owner then deletes
     * every file and releases the lock. Writer and reader threads must have stopped using the queue.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (writer != null) {
            writer.close();
        }
        if (housekeeperRunner != null) {
            housekeeperRunner.close();
        }
        for (ChronicleTensorReader r : List.copyOf(readers.values())) {
            r.close();
        }
        if (writer != null) {
            writer.closeAppender();
        }
        queue.close();
        counters.close();
        if (ownership != null) {
            deleteOwnedFiles(config.directory(), ownership);
        }
        LOG.debug("event=queueClosed directory={}", config.directory());
    }
}
