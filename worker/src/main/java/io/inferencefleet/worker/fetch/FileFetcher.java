package io.inferencefleet.worker.fetch;

import static io.inferencefleet.worker.fetch.FetchAttempt.quote;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code file:} URIs: regular files under {@link FetchConfig#fileRoots()}, read whole if no larger
 * than {@link FetchConfig#maxImageBytes()}, answered by the attempt's deadline. Everything that can be
 * refused without touching the file system is refused first, on the caller's thread, so that callers
 * cannot probe which files exist outside the roots.
 *
 * <p><b>Why the file system is touched on reader threads.</b> Checking that the target is a regular
 * file and then opening it is a race: a file swapped for a FIFO in between makes {@code open(2)} block
 * until someone opens the FIFO for writing, which may be never; a hung NFS or FUSE mount blocks even
 * {@code stat(2)}. Java offers no way to open without that risk or to look at what was opened: no
 * {@code O_NONBLOCK} or {@code O_PATH} open option and no {@code fstat} of a channel. Opening
 * read-write, which does not block on a Linux FIFO, would need write permission on images and fails on
 * read-only mounts. So the resolve, check, open and read run on a bounded pool of reader threads and
 * the caller waits for them at most until its deadline:
 * <ul>
 * <li>a read blocked in {@code read(2)} is released by interrupting its thread ({@link FileChannel}
 *     is interruptible), so it comes back shortly after its caller gave up;</li>
 * <li>a thread blocked in {@code open(2)} or in the kernel on a hung mount cannot be released from
 *     Java; it stays until the OS returns and is counted by {@link #stuckReads()}. The pool never
 *     grows past {@link FetchConfig#fileReaderThreads()}, so such files cost a bounded number of
 *     threads, and once every reader is stuck, fetches fail at once instead of queueing.</li>
 * </ul>
 * The hand-off costs tens of microseconds per file, small against decoding the image.
 */
final class FileFetcher implements ImageSource {
    /** Test seams on the reader thread; {@link #NONE} in production. */
    interface Hooks {
        Hooks NONE = new Hooks() { };

        /** The buffer for a file of {@code bytes} (tests simulate a heap too full for it). */
        default byte[] allocate(int bytes) {
            return new byte[bytes];
        }

        /** Runs after the checks and just before the open, where a swap would race. */
        default void beforeOpen(Path real) throws IOException {
        }
    }

    private static final AtomicInteger FETCHERS = new AtomicInteger();

    private final FetchConfig config;
    private final Hooks hooks;
    /** Null when there are no roots: nothing will ever be read. */
    private final ThreadPoolExecutor readers;
    /** Reads whose caller has given up but whose thread has not come back. */
    private final AtomicInteger stuck = new AtomicInteger();

    FileFetcher(FetchConfig config) {
        this(config, Hooks.NONE);
    }

    FileFetcher(FetchConfig config, Hooks hooks) {
        this.config = config;
        this.hooks = hooks;
        if (config.fileRoots().isEmpty()) {
            this.readers = null;
        } else {
            String prefix = "fetch-file-" + FETCHERS.incrementAndGet() + "-";
            AtomicInteger threads = new AtomicInteger();
            int n = config.fileReaderThreads();
            // Core = max with an unbounded queue: up to n threads, then callers queue (against their deadline).
            this.readers = new ThreadPoolExecutor(n, n, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, prefix + threads.incrementAndGet());
                // A thread stuck in open() must not keep the JVM alive at shutdown.
                t.setDaemon(true);
                return t;
            });
            readers.allowCoreThreadTimeOut(true);
        }
    }

    /** Reader threads still blocked in a read whose caller gave up (see the class comment). */
    int stuckReads() {
        return stuck.get();
    }

    /** Reads waiting for a reader thread (for tests). */
    int queuedReads() {
        return readers == null ? 0 : readers.getQueue().size();
    }

    @Override
    public FetchResult fetch(URI uri, FetchAttempt attempt) {
        if (readers == null) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file: URIs are not allowed (no fileRoots configured)");
        }
        if (uri.isOpaque() || uri.getPath() == null || !uri.getPath().startsWith("/")) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString())
                    + " is not absolute (expected file:///dir/image.jpg)");
        }
        if (uri.getRawAuthority() != null) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString()) + " names a host ("
                    + quote(uri.getRawAuthority()) + "); only local files are allowed");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString())
                    + " has a query or fragment (encode ? and # in file names as %3F and %23)");
        }
        String path = uri.getPath(); // decoded, so %2e%2e is caught as ..
        for (String segment : path.split("/")) {
            if (segment.equals("..")) {
                return attempt.fail(FetchStatus.FORBIDDEN_URI, "file path " + quote(path) + " contains '..'");
            }
        }
        Path named;
        try {
            named = Path.of(path).normalize();
        } catch (InvalidPathException e) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file path " + quote(path) + " is invalid: " + e.getReason());
        }
        // Refuse before touching the file system, so that callers cannot probe which files exist elsewhere.
        if (!underAny(named, config.namedFileRoots())) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file " + named + " is outside the file roots "
                    + config.fileRoots());
        }
        return readOnReaderThread(named, attempt);
    }

    private FetchResult readOnReaderThread(Path named, FetchAttempt attempt) {
        int stuckNow = stuck.get();
        if (stuckNow >= config.fileReaderThreads()) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "not reading " + named + ": all " + stuckNow
                    + " file reader threads are stuck in earlier reads (a FIFO, device or hung mount under the file"
                    + " roots?)");
        }
        long remainingNs = attempt.remainingNs();
        if (remainingNs <= 0) {
            return timedOut(named, attempt, "before reading");
        }
        Read read = new Read(named, attempt);
        try {
            readers.execute(read);
        } catch (RejectedExecutionException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "ImageFetcher closed before reading " + named);
        }
        try {
            return read.get(remainingNs, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            switch (read.abandon()) {
                case Read.DROPPED:
                    return timedOut(named, attempt, "waiting for a free file reader thread");
                case Read.STUCK:
                    return timedOut(named, attempt, "reading");
                default:
                    return read.finishedResult(); // finished as we gave up: no reason to waste it
            }
        } catch (InterruptedException e) {
            read.abandon();
            Thread.currentThread().interrupt();
            return attempt.fail(FetchStatus.FETCH_FAILED, "interrupted while reading " + named);
        } catch (CancellationException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "ImageFetcher closed while reading " + named);
        } catch (ExecutionException e) {
            // Not an I/O error (those are results) but a hole in our code: ImageFetcher answers and counts those.
            Throwable cause = e.getCause();
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
        }
    }

    private FetchResult timedOut(Path named, FetchAttempt attempt, String when) {
        return attempt.fail(FetchStatus.FETCH_TIMEOUT, "file " + named + " not read within readTimeoutMs="
                + config.readTimeoutMs() + " (gave up " + when + ")");
    }

    /**
     * One read on a reader thread, with who is responsible for it: the caller until it gives up,
     * then the {@link #stuck} count until the thread comes back.
     */
    private final class Read extends FutureTask<FetchResult> {
        private static final int QUEUED = 0;
        private static final int RUNNING = 1;
        private static final int DONE = 2;
        private static final int ABANDONED = 3;
        /** What {@link #abandon()} found. */
        static final int DROPPED = 0;
        static final int STUCK = 1;
        static final int FINISHED = 2;

        private final AtomicInteger state = new AtomicInteger(QUEUED);

        Read(Path named, FetchAttempt attempt) {
            super(() -> readNow(named, attempt));
        }

        @Override
        public void run() {
            if (!state.compareAndSet(QUEUED, RUNNING)) {
                return; // the caller gave up while this waited for a thread
            }
            try {
                super.run();
            } finally {
                if (state.getAndSet(DONE) == ABANDONED) {
                    stuck.decrementAndGet();
                }
            }
        }

        /**
         * Called by a caller who stops waiting: a queued read is {@link #DROPPED}; a running one is
         * interrupted and counted as {@link #STUCK} until its thread comes back; a read that ended
         * meanwhile is {@link #FINISHED} and its result can be taken with {@link #finishedResult()}.
         */
        int abandon() {
            if (state.compareAndSet(QUEUED, ABANDONED)) {
                readers.remove(this); // else a queue behind stuck readers would fill with dead reads
                return DROPPED;
            }
            // Count first, so that the reader's decrement can never run ahead and make the count negative.
            stuck.incrementAndGet();
            if (state.compareAndSet(RUNNING, ABANDONED)) {
                cancel(true); // releases a read() blocked on a FIFO or pipe; cannot release open()
                return STUCK;
            }
            stuck.decrementAndGet();
            return FINISHED;
        }

        /** The result of a {@link #FINISHED} read. */
        FetchResult finishedResult() {
            try {
                return get();
            } catch (InterruptedException | ExecutionException | CancellationException e) {
                throw new IllegalStateException("read not finished: " + e, e);
            }
        }
    }

    /** Runs on a reader thread; may block in the OS for as long as the OS likes. */
    private FetchResult readNow(Path named, FetchAttempt attempt) throws IOException {
        Path real;
        try {
            real = named.toRealPath();
        } catch (NoSuchFileException e) {
            return attempt.fail(FetchStatus.NOT_FOUND, "no file " + named);
        } catch (IOException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "cannot resolve " + named + ": " + e);
        }
        if (!underAny(real, config.fileRoots())) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "file " + named + " resolves through a symlink to outside"
                    + " the file roots " + config.fileRoots());
        }
        try {
            BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile()) {
                // Directories, FIFOs and devices are not images; the reader pool covers one swapped in after this.
                return attempt.fail(FetchStatus.NOT_FOUND, named + " is not a regular file");
            }
            long sizeBytes = attributes.size();
            if (sizeBytes > config.maxImageBytes()) {
                return attempt.fail(FetchStatus.TOO_LARGE, "file " + named + " is " + sizeBytes
                        + " bytes, over maxImageBytes=" + config.maxImageBytes());
            }
            byte[] bytes;
            try {
                bytes = hooks.allocate((int) sizeBytes);
            } catch (OutOfMemoryError e) {
                // Not TOO_LARGE: the image is within the limit and may well be read a moment later, when the heap
                // has room; too_large tells the client that retrying is pointless.
                return attempt.fail(FetchStatus.FETCH_FAILED, "no heap for the " + sizeBytes + "-byte file " + named
                        + " right now (OutOfMemoryError); is maxImageBytes=" + config.maxImageBytes() + " too large"
                        + " for this heap and number of lanes?");
            }
            hooks.beforeOpen(real);
            // NOFOLLOW: the last component must still be the file we checked, not a symlink swapped in since.
            try (FileChannel in = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining() && in.read(buffer) >= 0) {
                    // read until full or EOF
                }
                if (buffer.hasRemaining() || in.read(ByteBuffer.allocate(1)) >= 0) {
                    // Probably still being written; a partial image would only fail later, less clearly.
                    return attempt.fail(FetchStatus.FETCH_FAILED, "file " + named + " changed size while being read"
                            + " (was " + sizeBytes + " bytes)");
                }
            }
            return attempt.ok(bytes);
        } catch (NoSuchFileException e) {
            return attempt.fail(FetchStatus.NOT_FOUND, "file " + named + " disappeared while being read");
        } catch (ClosedByInterruptException e) {
            // Interrupted after the caller gave up (nobody reads this) or by close (the caller is still waiting).
            return attempt.fail(FetchStatus.FETCH_FAILED, "read of " + named + " interrupted (ImageFetcher closing)");
        } catch (IOException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "cannot read " + named + ": " + e);
        }
    }

    private static boolean underAny(Path path, List<Path> roots) {
        for (Path root : roots) {
            if (path.startsWith(root)) { // by whole components: /data/rootX is not under /data/root
                return true;
            }
        }
        return false;
    }

    /**
     * Interrupts running reads and fails queued ones at once (their callers get an answer, not a wait
     * until the deadline). Threads stuck in {@code open(2)} are daemons and stay until the OS lets go.
     */
    @Override
    public void close() {
        if (readers == null || readers.isShutdown()) {
            return;
        }
        for (Runnable queued : readers.shutdownNow()) {
            ((Future<?>) queued).cancel(false);
        }
    }
}
