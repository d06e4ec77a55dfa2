package io.inferencefleet.shm.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exclusive ownership of a queue directory through a POSIX lock on {@code owner.lock}, which holds
 * the owner's PID and start time. The kernel drops the lock when the owner dies, so "lock
 * acquired but other files present" means a dead owner's leftovers, which the new owner deletes
 * (Kafka re-delivers whatever they held).
 */
public final class DirectoryOwnership implements AutoCloseable {
    public static final String LOCK_FILE = "owner.lock";
    static final Set<PosixFilePermission> DIR_PERMS = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE_PERMS = PosixFilePermissions.fromString("rw-------");
    private static final Logger LOG = LoggerFactory.getLogger(DirectoryOwnership.class);

    private final Path directory;
    private final AtomicReference<FileChannel> channel;
    private final FileLock lock;
    private final List<String> staleFilesRemoved;

    private DirectoryOwnership(Path directory, FileChannel channel, FileLock lock, List<String> staleFilesRemoved) {
        this.directory = directory;
        this.channel = new AtomicReference<>(channel);
        this.lock = lock;
        this.staleFilesRemoved = staleFilesRemoved;
    }

    /** Takes ownership, cleaning a dead owner's files; fails if a live owner holds the directory. */
    public static DirectoryOwnership acquire(Path directory) {
        createPrivateDirectories(directory);
        Path lockFile = directory.resolve(LOCK_FILE);
        FileChannel channel = null;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            Files.setPosixFilePermissions(lockFile, FILE_PERMS);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                throw new IllegalStateException("Queue directory " + directory + " is already owned by this process (pid="
                        + ProcessHandle.current().pid() + ")");
            }
            if (lock == null) {
                throw new IllegalStateException("Queue directory " + directory + " is owned by a live process: "
                        + readOwner(channel));
            }
            String previous = readOwner(channel);
            List<String> removed = removeAllExceptLock(directory);
            if (!removed.isEmpty()) {
                LOG.warn("event=staleQueueCleaned directory={} previousOwner=\"{}\" previousOwnerAlive={} filesRemoved={}",
                        directory, previous, isAlive(previous), removed.size());
            }
            channel.truncate(0);
            ProcessHandle self = ProcessHandle.current();
            String owner = "pid=" + self.pid() + " start=" + self.info().startInstant().map(Object::toString).orElse("?") + "\n";
            channel.write(ByteBuffer.wrap(owner.getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
            return new DirectoryOwnership(directory, channel, lock, removed);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException("cannot take ownership of " + directory, e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** For readers in another process: true if a live process holds the lock. Never takes it for long. */
    public static String requireLiveOwner(Path directory) {
        Path lockFile = directory.resolve(LOCK_FILE);
        if (!Files.exists(lockFile)) {
            throw new IllegalStateException("Queue directory " + directory + " has no owner (no " + LOCK_FILE + ")");
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock probe;
            try {
                probe = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                return readOwner(channel);  // this very process owns it
            }
            if (probe != null) {
                probe.release();
                throw new IllegalStateException("Queue directory " + directory + " has no live owner (last: " + readOwner(channel) + ")");
            }
            return readOwner(channel);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot probe owner of " + directory, e);
        }
    }

    /**
     * True when nobody holds the directory's lock and the process recorded in it is not alive: a
     * dead owner's leftovers. False when in doubt (a live or unreadable owner, a lock this process holds).
     */
    public static boolean ownerIsGone(Path directory) {
        Path lockFile = directory.resolve(LOCK_FILE);
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock probe;
            try {
                probe = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                return false;  // this very process owns it
            }
            if (probe == null) {
                return false;
            }
            try {
                return !isAlive(readOwner(channel));
            } finally {
                probe.release();
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static void createPrivateDirectories(Path directory) {
        try {
            Path parent = directory.toAbsolutePath().getParent();
            if (parent != null && !Files.exists(parent)) {
                Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(DIR_PERMS));
            }
            if (!Files.exists(directory)) {
                Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(DIR_PERMS));
            }
            Files.setPosixFilePermissions(directory, DIR_PERMS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create queue directory " + directory, e);
        }
    }

    private static List<String> removeAllExceptLock(Path directory) throws IOException {
        List<String> removed = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (!p.getFileName().toString().equals(LOCK_FILE) && Files.isRegularFile(p)) {
                    Files.deleteIfExists(p);
                    removed.add(p.getFileName().toString());
                }
            }
        }
        return removed;
    }

    private static String readOwner(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(256);
        channel.read(buffer, 0);
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).trim();
    }

    private static boolean isAlive(String owner) {
        if (!owner.startsWith("pid=")) {
            return false;
        }
        try {
            long pid = Long.parseLong(owner.substring(4, owner.indexOf(' ') < 0 ? owner.length() : owner.indexOf(' ')));
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Files of a dead owner removed when this ownership was acquired. */
    public List<String> staleFilesRemoved() {
        return staleFilesRemoved;
    }

    public Path directory() {
        return directory;
    }

    /** Releases the lock and deletes the lock file; idempotent. */
    @Override
    public void close() {
        FileChannel c = channel.getAndSet(null);
        if (c != null) {
            try {
                Files.deleteIfExists(directory.resolve(LOCK_FILE));
                lock.release();
            } catch (IOException e) {
                LOG.warn("event=lockReleaseFailed directory={} error=\"{}\"", directory, e.toString());
            } finally {
                closeQuietly(c);
            }
        }
    }

    private static void closeQuietly(FileChannel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // nothing left to do
            }
        }
    }
}
