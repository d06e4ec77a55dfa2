package io.inferencefleet.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.shm.internal.DirectoryOwnership;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Other JVMs: a reader attached to our queue, a crashed owner, a live owner. */
@Tag("slow")
class CrossProcessTest extends QueueTestSupport {

    @Test
    void readerInAnotherJvmSeesTensorsInPlace() throws Exception {
        int n = 50;
        try (TensorQueue queue = TensorQueue.open(config().capacityTensors(16).build())) {
            Process child = ForkedQueueJvm.start(QueueProcessMain.class, "read", dir.toString(), Integer.toString(n));
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            long expected = 0;
            int written = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (written < n && System.nanoTime() < deadline) {
                if (writer.tryClaim(TENSOR_BYTES, claim) != ClaimStatus.OK) {
                    Thread.sleep(1);  // back-pressured until the child catches up: capacity 16 < 50
                    continue;
                }
                try {
                    TestTensors.fill(claim.buffer(), written);
                    expected += TestTensors.checksum(claim.buffer()) + written;
                    claim.source(0, written).commit();
                    written++;
                } finally {
                    claim.abort();
                }
            }
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, child.exitValue(), out);
            assertTrue(out.contains("read=" + n + " sum=" + expected + " aligned=true"), out);
            assertTrue(QueueCountersReader.read(dir).get("writer.backPressureEvents") > 0, "writer waited for the child");
        }
    }

    @Test
    void deadOwnersFilesAreCleanedByTheNextOwner() throws Exception {
        Process crashed = ForkedQueueJvm.start(QueueProcessMain.class, "own", dir.toString(), "halt");
        String out = new String(crashed.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(crashed.waitFor(60, TimeUnit.SECONDS));
        assertEquals(3, crashed.exitValue(), out);
        assertTrue(out.contains("owning pid=" + crashed.pid()), out);
        String leftovers = list(dir);
        assertTrue(leftovers.contains(".cq4") && leftovers.contains("counters.dat"), "a crash leaves files: " + leftovers);

        try (TensorQueue queue = TensorQueue.open(config().build()); TensorReader reader = queue.reader("predictor")) {
            assertEquals(0, reader.poll(v -> { }, 10), "the dead owner's tensors are gone (Kafka redelivers)");
            assertEquals(0L, QueueCountersReader.read(dir).get("writer.tensorsWritten"));
            String lock = Files.readString(dir.resolve(DirectoryOwnership.LOCK_FILE));
            assertTrue(lock.startsWith("pid=" + ProcessHandle.current().pid() + " "), lock);
            write(queue.writer(), queue.writer().newClaim(), 4096, 1);
            assertEquals(1, reader.poll(v -> { }, 10));
        }
        assertFalse(Files.exists(dir));
    }

    @Test
    void liveOwnerInAnotherJvmCannotBeDisplaced() throws Exception {
        Process owner = ForkedQueueJvm.start(QueueProcessMain.class, "own", dir.toString(), "wait");
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = lines.readLine()) != null && !line.startsWith("owning")) {
                // skip JVM chatter
            }
            assertEquals("owning pid=" + owner.pid(), line);
            String before = list(dir);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> TensorQueue.open(config().build()));
            assertTrue(e.getMessage().contains("owned by a live process: pid=" + owner.pid()), e.getMessage());
            assertEquals(before, list(dir), "the refused owner touched nothing");
            // A reader may attach to a live owner's queue.
            try (TensorQueue attached = TensorQueue.attach(config().build()); TensorReader r = attached.reader("predictor")) {
                assertEquals(3, r.poll(v -> { }, 10));
            }
            try (OutputStream in = owner.getOutputStream()) {
                in.write('\n');
            }
            assertTrue(owner.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, owner.exitValue());
            assertFalse(Files.exists(dir), "a clean close removes the directory");
            IllegalStateException noOwner = assertThrows(IllegalStateException.class, () -> TensorQueue.attach(config().build()));
            assertTrue(noOwner.getMessage().contains("no owner") || noOwner.getMessage().contains("no live owner"), noOwner.getMessage());
        } finally {
            owner.destroyForcibly();
            owner.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
