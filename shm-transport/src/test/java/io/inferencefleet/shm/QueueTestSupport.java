package io.inferencefleet.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Gives each test its own queue directory under /dev/shm and checks everything was released. */
abstract class QueueTestSupport {
    static final int TENSOR_BYTES = 3 * 224 * 224 * 4;
    Path dir;

    @BeforeEach
    void newDirectory() {
        dir = Path.of("/dev/shm/inference-fleet-test", UUID.randomUUID().toString());
    }

    @AfterEach
    void everythingReleased() throws Exception {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!housekeeperThreads().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of(), housekeeperThreads(), "housekeeper threads left running");
        boolean leftover = Files.exists(dir);
        String files = leftover ? list(dir) : "";
        deleteRecursively(dir);
        try {
            Files.deleteIfExists(dir.getParent());  // the shared test root, once empty
        } catch (java.nio.file.DirectoryNotEmptyException ignored) {
            // another test's directory
        }
        assertFalse(leftover, "queue directory left behind: " + files);
    }

    static List<String> housekeeperThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(n -> n.startsWith("shm-housekeeper")).collect(Collectors.toList());
    }

    TensorQueueConfig.Builder config() {
        return TensorQueueConfig.builder().directory(dir);
    }

    static String list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.joining(","));
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Writes one tensor filled with {@code seed}; asserts the claim succeeded. */
    static void write(TensorWriter writer, TensorClaim claim, int bytes, int seed) {
        int status = writer.tryClaim(bytes, claim);
        assertEquals(ClaimStatus.OK, status, ClaimStatus.name(status));
        try {
            TestTensors.fill(claim.buffer(), seed);
            claim.requestKey("req-" + seed).source(seed % 7, 1000L + seed).shape(3, 224, 224).dtype(DType.FLOAT32);
            claim.commit();
        } finally {
            claim.abort();
        }
    }
}
