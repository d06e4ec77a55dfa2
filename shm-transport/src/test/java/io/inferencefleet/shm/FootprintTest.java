package io.inferencefleet.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Sustained writes far past the capacity, against a reader slower than the writer: the writer is
 * back-pressured, consumed cycles are deleted, and the directory (allocated blocks, as {@code du}
 * counts them) never exceeds capacity + one roll cycle of data + the pre-fault window.
 */
@Tag("slow")
class FootprintTest extends QueueTestSupport {
    private static final int READER_RATE = 250;  // tensors/s
    private static final long RUN_NS = TimeUnit.SECONDS.toNanos(6);
    private static final long SAMPLE_NS = TimeUnit.MILLISECONDS.toNanos(25);
    private static final long CHRONICLE_OVERHEAD_BYTES = 2L << 20;  // index pages, metadata.cq4t, counters

    record Sample(long timeNs, long duBytes, long bytesWritten, long shmUsedBytes) {}

    @Test
    void directoryStaysWithinCapacityPlusOneCycleUnderSustainedLoad() throws Exception {
        TensorQueueConfig cfg = config().capacityTensors(32).capacityBytes(32L * (TENSOR_BYTES + 4096)).rollCycleMs(1_000).build();
        FileStore shm = Files.getFileStore(java.nio.file.Path.of("/dev/shm"));
        long shmBaseline = shm.getTotalSpace() - shm.getUnallocatedSpace();
        List<Sample> samples = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] readCount = {0};
        try (TensorQueue queue = TensorQueue.open(cfg)) {
            Thread reader = new Thread(() -> {
                try (TensorReader r = queue.reader("predictor")) {
                    long start = System.nanoTime();
                    while (!stop.get()) {
                        long due = start + readCount[0] * 1_000_000_000L / READER_RATE;
                        if (System.nanoTime() < due) {
                            Thread.onSpinWait();
                            continue;
                        }
                        readCount[0] += r.poll(v -> {
                            if (v.buffer().getInt(0) != (int) v.sourceOffset()) {
                                throw new AssertionError("tensor " + v.sourceOffset() + " corrupt");
                            }
                        }, 1);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "test-reader");
            Thread writer = new Thread(() -> {
                try {
                    TensorWriter w = queue.writer();
                    TensorClaim claim = w.newClaim();
                    long seq = 0;
                    while (!stop.get()) {
                        if (w.tryClaim(TENSOR_BYTES, claim) != ClaimStatus.OK) {
                            Thread.yield();
                            continue;
                        }
                        try {
                            claim.buffer().setMemory(0, TENSOR_BYTES, (byte) 1);
                            claim.buffer().putInt(0, (int) seq);
                            claim.source(0, seq++).commit();
                        } finally {
                            claim.abort();
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "test-writer");
            reader.start();
            writer.start();
            long start = System.nanoTime();
            while (System.nanoTime() - start < RUN_NS && failure.get() == null) {
                Map<String, Long> c = QueueCountersReader.read(dir);
                samples.add(new Sample(System.nanoTime(), du(), c.get("writer.bytesWritten"),
                        shm.getTotalSpace() - shm.getUnallocatedSpace() - shmBaseline));
                TimeUnit.NANOSECONDS.sleep(SAMPLE_NS);
            }
            stop.set(true);
            writer.join();
            reader.join();
            if (failure.get() != null) {
                throw new AssertionError("worker thread failed", failure.get());
            }
            Map<String, Long> counters = QueueCountersReader.read(dir);
            long maxDu = samples.stream().mapToLong(Sample::duBytes).max().orElseThrow();
            long maxShm = samples.stream().mapToLong(Sample::shmUsedBytes).max().orElseThrow();
            long cycleBytes = maxBytesInOneSecond(samples);
            long bound = cfg.capacityBytes() + cycleBytes + cfg.prefaultAheadBytes() + CHRONICLE_OVERHEAD_BYTES;
            long written = counters.get("writer.bytesWritten");
            System.out.printf("footprint: written=%d MiB samples=%d maxDu=%.1f MiB maxShmDelta=%.1f MiB capacity=%.1f MiB"
                            + " oneCycle=%.1f MiB bound=%.1f MiB cyclesDeleted=%d backPressureEvents=%d%n",
                    written >> 20, samples.size(), maxDu / 1048576.0, maxShm / 1048576.0, cfg.capacityBytes() / 1048576.0,
                    cycleBytes / 1048576.0, bound / 1048576.0, counters.get("housekeeper.cyclesDeleted"),
                    counters.get("writer.backPressureEvents"));
            assertTrue(written > 3 * bound, "wrote well past the bound: " + written + " vs " + bound);
            assertTrue(counters.get("writer.backPressureEvents") > 0);
            assertTrue(counters.get("housekeeper.cyclesDeleted") >= 3, "consumed cycles deleted");
            assertTrue(maxDu <= bound, "directory peaked at " + maxDu + " bytes > bound " + bound);
            assertEquals(readCount[0], counters.get("reader.predictor.tensorsConsumed"));
        }
    }

    /** Most bytes written within any window of one roll cycle (1 s), from the samples (an over-estimate). */
    private static long maxBytesInOneSecond(List<Sample> samples) {
        long max = 0;
        int j = 0;
        for (int i = 0; i < samples.size(); i++) {
            while (samples.get(i).timeNs() - samples.get(j).timeNs() > 1_000_000_000L + SAMPLE_NS) {
                j++;
            }
            max = Math.max(max, samples.get(i).bytesWritten() - (j > 0 ? samples.get(j - 1).bytesWritten() : 0));
        }
        return max;
    }

    private long du() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("du", "-s", "-B1", dir.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        p.waitFor();
        return Long.parseLong(out.split("\\s+")[0]);
    }
}
