package io.inferencefleet.shm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.shm.internal.DirectoryOwnership;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaleQueuesTest {
    @TempDir
    Path root;

    private static Path old(Path p) throws Exception {
        Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        return p;
    }

    @Test
    void removesDeadWorkersQueuesAndEmptyDirectoriesButNothingAliveRecentOrForeign() throws Exception {
        // Regression: workers with default ids (host-pid) that crashed left their /dev/shm directories for good.
        Path dead = Files.createDirectories(root.resolve("host-111/lane-0"));
        Files.writeString(dead.resolve("20261201.cq4"), "data");
        Files.writeString(dead.resolve(DirectoryOwnership.LOCK_FILE), "pid=999999999 start=?\n");
        old(dead.resolve(DirectoryOwnership.LOCK_FILE));
        Path recentDead = Files.createDirectories(root.resolve("host-222/lane-0"));
        Files.writeString(recentDead.resolve(DirectoryOwnership.LOCK_FILE), "pid=999999998 start=?\n");
        Path empty = old(Files.createDirectories(root.resolve("host-333")));
        Path notQueues = Files.createDirectories(root.resolve("host-444/something"));
        Path link = Files.createSymbolicLink(root.resolve("link"), notQueues);
        try (DirectoryOwnership live = DirectoryOwnership.acquire(root.resolve("host-555/lane-0"))) {
            old(root.resolve("host-555/lane-0").resolve(DirectoryOwnership.LOCK_FILE));
            var removed = StaleQueues.remove(root, Duration.ofMinutes(10));
            assertTrue(removed.contains(dead), removed.toString());
            assertFalse(Files.exists(dead));
            assertFalse(Files.exists(empty));
            assertTrue(Files.exists(recentDead), "a directory that died moments ago may be reused by a restart");
            assertTrue(Files.exists(root.resolve("host-555/lane-0/" + DirectoryOwnership.LOCK_FILE)), "live owner kept");
            assertTrue(Files.exists(notQueues) && Files.isSymbolicLink(link), "not ours: kept");
        }
    }
}
