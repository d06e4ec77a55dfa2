package io.inferencefleet.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Aborted claims (a decoder's bad image) mixed with commits, some held open across roll-cycle
 * boundaries (a slow preprocessing at a second boundary), with the reader on its own thread as in
 * the worker: the reader gets every committed tensor and the writer is never back-pressured for good.
 * Regression: with Chronicle's rollback as abort, a claim held across a boundary and aborted lost
 * committed tensors or stalled the lane (seen under CPU load, e.g. three busy loops on 2 vCPUs, and
 * by the worker's invariant suite: 13 requests never answered).
 */
class AbortAcrossRollTest {
    @TempDir
    Path temp;

    @Test
    void abortsAroundRollsNeverStallTheReader() throws Exception {
        int tensorBytes = 3 * 224 * 224 * 4;
        TensorQueueConfig config = TensorQueueConfig.builder().workerId("roll").directory(temp.resolve("q"))
                .capacityTensors(8).maxTensorBytes(tensorBytes).maxRequestKeyBytes(256).readerNames("predictor").build();
        Random random = new Random(7);
        AtomicLong read = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        try (TensorQueue queue = TensorQueue.open(config)) {
            Thread reader = new Thread(() -> {
                try (TensorReader r = queue.reader("predictor")) {
                    Random pause = new Random(11);
                    while (!stop.get() || read.get() < Long.MAX_VALUE) {
                        int n = r.poll(t -> read.incrementAndGet(), 1);
                        if (n == 0) {
                            if (stop.get()) {
                                break;
                            }
                            Thread.sleep(1);
                        } else if (pause.nextInt(10) == 0) {
                            Thread.sleep(pause.nextInt(30));
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "reader");
            reader.start();
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            long committed = 0;
            long longestWaitMs = 0;
            long deadline = System.currentTimeMillis() + 15_000;
            while (System.currentTimeMillis() < deadline) {
                long waitStart = System.currentTimeMillis();
                int status;
                while ((status = writer.tryClaim(tensorBytes, claim)) != ClaimStatus.OK) {
                    assertEquals(ClaimStatus.BACK_PRESSURED, status);
                    Thread.sleep(1);
                    assertTrue(System.currentTimeMillis() - waitStart < 5_000,
                            "writer back-pressured for 5 s: committed " + committed + ", read " + read.get());
                }
                longestWaitMs = Math.max(longestWaitMs, System.currentTimeMillis() - waitStart);
                // Preprocessing; now and then long enough for the claim to stay open across a roll.
                boolean longHold = random.nextInt(10) == 0;
                Thread.sleep(longHold ? 900 + random.nextInt(300) : random.nextInt(15));
                // Mostly aborts after a long hold: that is what Chronicle's rollback got wrong.
                boolean abort = longHold ? random.nextInt(3) != 0 : random.nextInt(3) == 0;
                if (abort) {
                    claim.abort();
                } else {
                    claim.requestKey("k" + committed).source(0, committed).shape(1, 3, 224, 224).dtype(DType.FLOAT32).commit();
                    committed++;
                }
                if (random.nextInt(20) == 0) {
                    Thread.sleep(400 + random.nextInt(800));  // idle across a roll
                }
            }
            long end = System.currentTimeMillis() + 5_000;
            while (read.get() < committed && System.currentTimeMillis() < end) {
                Thread.sleep(5);
            }
            stop.set(true);
            reader.join(5_000);
            assertEquals(committed, read.get(), "longest back-pressure " + longestWaitMs + " ms");
        }
    }
}
