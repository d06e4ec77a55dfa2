package io.inferencefleet.worker.lane;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;

/**
 * Checks, before any tensor queue is mapped, that the shm directory's file system has room for the
 * queues and that no other user controls where they go. A write into a mapped page of a full tmpfs
 * is a SIGBUS that kills the JVM (Docker's default /dev/shm is 64 MiB), so running out must be a
 * start-up error naming {@code shm.dir}, the bytes needed and the bytes free, not a crash later.
 */
final class SharedMemoryBudget {
    private SharedMemoryBudget() {}

    /**
     * Bytes a lane's queue may occupy: its unread backlog ({@code capacityBytes}) plus as much again
     * for the consumed roll cycles not yet deleted (measured peak for two lanes under load: 24-68 MiB
     * of the 256 MiB this allows).
     */
    static long bytesPerLane(long queueCapacityBytes) {
        return 2 * queueCapacityBytes;
    }

    /** @throws IllegalArgumentException naming shm.dir and what is wrong */
    static void check(Path shmDir, int lanes, long bytesPerLane) {
        Path existing = shmDir.toAbsolutePath();
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return;
        }
        long needed = lanes * bytesPerLane;
        try {
            FileStore store = Files.getFileStore(existing);
            long free = store.getUsableSpace();
            if (free < needed) {
                throw new IllegalArgumentException("Invalid value " + shmDir + " for shm.dir: " + lanes
                        + " tensor queues need " + needed + " bytes free, the file system (" + store + ") has " + free
                        + " (raise its size, e.g. docker --shm-size, or lower decoder.threads)");
            }
            checkNotControlledByOthers(existing, shmDir);
        } catch (IOException e) {
            throw new IllegalArgumentException("Invalid value " + shmDir + " for shm.dir: cannot inspect " + existing
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * The nearest existing directory on the way to {@code shmDir} must be ours, or be shared only in
     * the sticky way /dev/shm and /tmp are: otherwise another local user could swap the queue files.
     */
    private static void checkNotControlledByOthers(Path existing, Path shmDir) throws IOException {
        PosixFileAttributes attributes;
        try {
            attributes = Files.readAttributes(existing, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException notPosix) {
            return;
        }
        String me = System.getProperty("user.name");
        boolean mine = attributes.owner().getName().equals(me);
        boolean othersWrite = attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)
                || attributes.permissions().contains(PosixFilePermission.GROUP_WRITE);
        boolean sticky = Boolean.TRUE.equals(stickyBit(existing));
        boolean rootOwned = attributes.owner().getName().equals("root");
        if (!mine && !(rootOwned && (!othersWrite || sticky))) {
            throw new IllegalArgumentException("Invalid value " + shmDir + " for shm.dir: " + existing + " is owned by "
                    + attributes.owner().getName() + ", not by " + me + " (another user could replace the queue files)");
        }
        if (mine && othersWrite && !sticky) {
            throw new IllegalArgumentException("Invalid value " + shmDir + " for shm.dir: " + existing
                    + " is writable by other users without the sticky bit (mode "
                    + java.nio.file.attribute.PosixFilePermissions.toString(attributes.permissions()) + ")");
        }
    }

    private static Boolean stickyBit(Path dir) {
        try {
            Object mode = Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return mode instanceof Integer m && (m & 01000) != 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }
}
