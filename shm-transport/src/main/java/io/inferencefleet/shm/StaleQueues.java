package io.inferencefleet.shm;

import io.inferencefleet.shm.internal.DirectoryOwnership;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Removes the queue directories of workers that died without cleaning up, under one root (the
 * default {@link TensorQueueConfig#DEFAULT_ROOT}): worker ids that include a pid are never reused, so
 * a crashed worker's /dev/shm would otherwise stay taken for good. A queue directory is removed only
 * when nobody holds its {@code owner.lock}, the process recorded in it is gone, and the lock file is
 * older than {@code minAge} (a worker restarted under the same id reuses its directory at once); an
 * empty worker directory is removed when older than {@code minAge}. Symbolic links and anything that
 * does not look like a worker's queue directory are left alone.
 *
 * <pre>{@code
 * List<Path> removed = StaleQueues.remove(TensorQueueConfig.DEFAULT_ROOT, Duration.ofMinutes(10));
 * }</pre>
 */
public final class StaleQueues {
    private StaleQueues() {}

    /** @return the directories removed; never throws for what it cannot inspect (it skips it) */
    public static List<Path> remove(Path root, Duration minAge) {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return removed;
        }
        Instant cutoff = Instant.now().minus(minAge);
        try (Stream<Path> workers = Files.list(root)) {
            for (Path worker : (Iterable<Path>) workers::iterator) {
                if (!Files.isDirectory(worker, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                removeDeadLanes(worker, cutoff, removed);
                if (isEmpty(worker) && olderThan(worker, cutoff)) {
                    Files.deleteIfExists(worker);
                    removed.add(worker);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a directory that vanished or is not ours is simply skipped
        }
        return removed;
    }

    private static void removeDeadLanes(Path worker, Instant cutoff, List<Path> removed) throws IOException {
        try (Stream<Path> lanes = Files.list(worker)) {
            for (Path lane : (Iterable<Path>) lanes::iterator) {
                Path lock = lane.resolve(DirectoryOwnership.LOCK_FILE);
                if (Files.isDirectory(lane, LinkOption.NOFOLLOW_LINKS) && Files.isRegularFile(lock, LinkOption.NOFOLLOW_LINKS)
                        && olderThan(lock, cutoff) && DirectoryOwnership.ownerIsGone(lane)) {
                    deleteTree(lane);
                    removed.add(lane);
                }
            }
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static boolean olderThan(Path path, Instant cutoff) throws IOException {
        return Files.getLastModifiedTime(path, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(cutoff);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
