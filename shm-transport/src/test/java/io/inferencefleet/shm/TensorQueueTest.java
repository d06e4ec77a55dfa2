package io.inferencefleet.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class TensorQueueTest extends QueueTestSupport {

    @Test
    void tensorRoundTripsInPlaceWithMetadataAndAlignment() {
        try (TensorQueue queue = TensorQueue.open(config().build()); TensorReader reader = queue.reader("predictor")) {
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            for (int seed = 1; seed <= 3; seed++) {
                write(writer, claim, TENSOR_BYTES, seed);
            }
            List<String> seen = new ArrayList<>();
            int n = reader.poll(view -> {
                int seed = seen.size() + 1;
                assertEquals(0, view.address() & 63, "tensor address 64-byte aligned");
                assertEquals(TENSOR_BYTES, view.lengthBytes());
                assertTrue(TestTensors.matches(view.buffer(), seed), "content of tensor " + seed);
                assertEquals("req-" + seed, view.requestKey());
                assertEquals(seed % 7, view.sourcePartition());
                assertEquals(1000L + seed, view.sourceOffset());
                assertArrayEquals(new int[] {3, 224, 224}, view.shape());
                assertEquals(DType.FLOAT32, view.dtype());
                assertTrue(view.enqueueTimeNs() <= System.nanoTime() && view.enqueueTimeNs() > 0);
                seen.add(view.requestKey());
            }, 10);
            assertEquals(3, n);
            assertEquals(List.of("req-1", "req-2", "req-3"), seen);
            assertEquals(0, reader.poll(v -> { }, 10), "nothing more");
        }
    }

    @Test
    void abortedClaimIsNeverSeen() {
        try (TensorQueue queue = TensorQueue.open(config().build()); TensorReader reader = queue.reader("predictor")) {
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            assertEquals(ClaimStatus.OK, writer.tryClaim(1024, claim));
            claim.abort();
            assertFalse(claim.isOpen());
            write(writer, claim, 1024, 9);
            List<String> keys = new ArrayList<>();
            reader.poll(v -> keys.add(v.requestKey()), 10);
            assertEquals(List.of("req-9"), keys);
        }
    }

    @Test
    void fullQueueBackPressuresUntilTheSlowestReaderConsumes() {
        TensorQueueConfig cfg = config().capacityTensors(4).readerNames("fast", "slow").build();
        try (TensorQueue queue = TensorQueue.open(cfg);
                TensorReader fast = queue.reader("fast"); TensorReader slow = queue.reader("slow")) {
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            for (int i = 0; i < 4; i++) {
                write(writer, claim, 4096, i);
            }
            assertEquals(ClaimStatus.BACK_PRESSURED, writer.tryClaim(4096, claim));
            assertFalse(claim.isOpen());
            assertEquals(4, fast.poll(v -> { }, 10));
            assertEquals(ClaimStatus.BACK_PRESSURED, writer.tryClaim(4096, claim), "slow reader still 4 behind");
            assertEquals(1, slow.poll(v -> { }, 1));
            write(writer, claim, 4096, 4);
            Map<String, Long> counters = QueueCountersReader.read(queue.directory());
            assertEquals(5L, counters.get("writer.tensorsWritten"));
            assertEquals(2L, counters.get("writer.backPressureEvents"));
            assertEquals(1L, counters.get("reader.slow.tensorsConsumed"));
            assertEquals(4L, counters.get("reader.fast.tensorsConsumed"));
            assertTrue(counters.get("writer.bytesWritten") >= 5 * 4096L);
        }
    }

    @Test
    void capacityInBytesBackPressuresToo() {
        TensorQueueConfig cfg = config().capacityTensors(1000).capacityBytes(2L * TENSOR_BYTES + 4096).build();
        try (TensorQueue queue = TensorQueue.open(cfg); TensorReader reader = queue.reader("predictor")) {
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            write(writer, claim, TENSOR_BYTES, 1);
            write(writer, claim, TENSOR_BYTES, 2);
            assertEquals(ClaimStatus.BACK_PRESSURED, writer.tryClaim(TENSOR_BYTES, claim));
            assertEquals(1, reader.poll(v -> { }, 1));
            write(writer, claim, TENSOR_BYTES, 3);
        }
    }

    @Test
    void batchesHoldManyTensorsValidAtOnceAcrossMappingChunks() {
        // 64 MiB mapping blocks hold ~110 tensors: 300 tensors cross two chunk boundaries.
        TensorQueueConfig cfg = config().capacityTensors(400).capacityBytes(400L * TENSOR_BYTES).rollCycleMs(300_000).build();
        try (TensorQueue queue = TensorQueue.open(cfg); TensorReader reader = queue.reader("predictor")) {
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            for (int i = 0; i < 300; i++) {
                write(writer, claim, TENSOR_BYTES, i);
            }
            int[] next = {0};
            int batches = 0;
            while (next[0] < 300) {
                int n = reader.pollBatch(batch -> {
                    for (int i = 0; i < batch.size(); i++) {
                        TensorView v = batch.get(i);
                        assertEquals(0, v.address() & 63);
                        assertTrue(TestTensors.matches(v.buffer(), next[0] + i), "tensor " + (next[0] + i) + " in batch");
                        assertEquals("req-" + (next[0] + i), v.requestKey());
                    }
                    next[0] += batch.size();
                }, 16);
                assertTrue(n > 0, "batch at " + next[0]);
                batches++;
            }
            assertEquals(300, next[0]);
            assertTrue(batches >= 19, "batches of at most 16: " + batches);
            assertEquals(0, reader.pollBatch(b -> { throw new AssertionError("empty batch delivered"); }, 16));
        }
    }

    @Test
    void directoryAndFilesArePrivateAndRemovedOnClose() throws Exception {
        try (TensorQueue queue = TensorQueue.open(config().build())) {
            TensorWriter writer = queue.writer();
            write(writer, writer.newClaim(), 4096, 1);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
                }
            }
            assertTrue(list(dir).contains(".cq4"), list(dir));
        }
        assertFalse(Files.exists(dir));
    }

    @Test
    void secondOwnerInTheSameProcessIsRefusedAndCloseIsIdempotent() {
        TensorQueue queue = TensorQueue.open(config().build());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TensorQueue.open(config().build()));
        assertTrue(e.getMessage().contains("already owned by this process"), e.getMessage());
        queue.close();
        queue.close();
        assertThrows(IllegalStateException.class, queue::writer);
    }

    @Test
    void misuseIsReportedClearly() {
        try (TensorQueue queue = TensorQueue.open(config().maxTensorBytes(8192).build())) {
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> writer.tryClaim(8193, claim));
            assertTrue(tooBig.getMessage().startsWith("Invalid value 8193 for tensorBytes"), tooBig.getMessage());
            assertEquals(ClaimStatus.OK, writer.tryClaim(100, claim));
            assertThrows(IllegalStateException.class, () -> writer.tryClaim(100, claim));
            claim.abort();
            assertThrows(IllegalStateException.class, claim::address);
            assertThrows(IllegalArgumentException.class, () -> queue.reader("nobody"));
        }
    }

    @Test
    void housekeeperPrefaultsAheadOfTheWriter() throws Exception {
        try (TensorQueue queue = TensorQueue.open(config().prefaultAheadBytes(2L << 20).build());
                TensorReader reader = queue.reader("predictor")) {
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            write(writer, claim, TENSOR_BYTES, 1);
            long deadline = System.nanoTime() + 2_000_000_000L;
            Map<String, Long> c = QueueCountersReader.read(dir);
            while (c.get("housekeeper.prefaultedBytes") < (2L << 20) - 4096 && System.nanoTime() < deadline) {
                Thread.sleep(5);
                c = QueueCountersReader.read(dir);
            }
            assertTrue(c.get("housekeeper.prefaultedBytes") >= (2L << 20) - 4096, "prefaulted the window: " + c);
            assertEquals(0L, c.get("housekeeper.prefaultFailures"), c.toString());
            write(writer, claim, TENSOR_BYTES, 2);
            assertEquals(2, reader.poll(v -> { }, 10));
        }
    }

    @Test
    void housekeeperRunsAtTheConfiguredNiceValue() throws Exception {
        try (TensorQueue queue = TensorQueue.open(config().housekeeperNice(7).build())) {
            assertTrue(queue.isOwner());
            long deadline = System.nanoTime() + 2_000_000_000L;
            String nice = null;
            while (nice == null && System.nanoTime() < deadline) {
                try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                    for (Path task : (Iterable<Path>) tasks::iterator) {
                        String stat = Files.readString(task.resolve("stat"));
                        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        if (comm.startsWith("shm-housekeep") && fields[16].equals("7")) {
                            nice = fields[16];  // field 19 (nice), counted from field 3
                        }
                    }
                }
                Thread.sleep(10);
            }
            assertEquals("7", nice, "housekeeper thread found with nice 7");
        }
    }

    @Test
    void aReopenedReaderResumesAfterWhatItConsumed() {
        try (TensorQueue queue = TensorQueue.open(config().build())) {
            TensorWriter writer = queue.writer();
            TensorClaim claim = writer.newClaim();
            for (int i = 1; i <= 4; i++) {
                write(writer, claim, 4096, i);
            }
            List<String> keys = new ArrayList<>();
            try (TensorReader first = queue.reader("predictor")) {
                assertEquals(2, first.poll(v -> keys.add(v.requestKey()), 2));
            }
            try (TensorReader second = queue.reader("predictor")) {
                assertEquals(2, second.poll(v -> keys.add(v.requestKey()), 10));
            }
            assertEquals(List.of("req-1", "req-2", "req-3", "req-4"), keys);
            assertEquals(4L, QueueCountersReader.read(dir).get("reader.predictor.tensorsConsumed"));
        }
    }
}
