package io.inferencefleet.worker.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code file:} reads obey {@link FetchConfig#readTimeoutMs()} even when the file turns into a FIFO
 * after the regular-file check (the race an attacker with write access to a root could win). The
 * swap happens in {@link FileFetcher.Hooks#beforeOpen}, exactly between the check and the open, so the test
 * does not depend on winning a race; the FIFOs are real ({@code mkfifo}).
 */
class FileFetchDeadlineTest {
    private static final long READ_TIMEOUT_MS = 300;
    /** Generous for a loaded 2-core machine; the old code blocked forever. */
    private static final long SLACK_MS = 700;

    @TempDir
    Path tmp;
    private Path root;
    private Path image;
    private final List<FileChannel> fifoEnds = new ArrayList<>();
    private final List<Path> fifos = new ArrayList<>();
    private ImageFetcher fetcher;

    @BeforeAll
    static void needsFifos() {
        assumeTrue(!System.getProperty("os.name").toLowerCase(Locale.ROOT).startsWith("windows"), "no FIFOs on Windows");
    }

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        image = Files.write(root.resolve("a.jpg"), FileFetchTest.bytes(10));
    }

    @AfterEach
    void tearDown() throws IOException {
        if (fetcher != null) {
            fetcher.close();
        }
        for (FileChannel end : fifoEnds) {
            end.close();
        }
        // Lets a reader thread left in open() by a failed test finish, instead of leaking it into later tests.
        for (Path fifo : fifos) {
            release(fifo);
        }
    }

    @Test
    void fifoSwappedInBeforeOpenTimesOutInsteadOfBlockingTheLane() throws Exception {
        fetcher = fetcherSwappingToFifo(config(4), image, false);

        FetchResult r = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> fetcher.fetch(image.toUri().toString()),
                "a FIFO with no writer blocked the fetching thread in open()");

        assertEquals(FetchStatus.FETCH_TIMEOUT, r.status(), r.detail());
        assertTrue(r.detail().contains("readTimeoutMs=" + READ_TIMEOUT_MS) && r.detail().contains("a.jpg"), r.detail());
        assertTrue(r.elapsedNs() < TimeUnit.MILLISECONDS.toNanos(READ_TIMEOUT_MS + SLACK_MS), r.toString());
        // Java cannot interrupt open() on a FIFO: the reader thread is still in it, and we say so.
        assertEquals(1, fetcher.stuckFileReaders());

        // A writer showing up releases it (open returns, the read sees EOF), and the count goes back down.
        release(image);
        awaitTrue(() -> fetcher.stuckFileReaders() == 0, "reader thread still counted as stuck");
    }

    @Test
    void fifoThatStallsAfterOpenIsInterruptedAtTheDeadline() throws Exception {
        // A writer holds the FIFO open and sent 1 of the 10 bytes: open() returns, read() then blocks.
        fetcher = fetcherSwappingToFifo(config(4), image, true);

        FetchResult r = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> fetcher.fetch(image.toUri().toString()),
                "a FIFO that never finishes blocked the fetching thread in read()");

        assertEquals(FetchStatus.FETCH_TIMEOUT, r.status(), r.detail());
        assertTrue(r.elapsedNs() < TimeUnit.MILLISECONDS.toNanos(READ_TIMEOUT_MS + SLACK_MS), r.toString());
        // read() is interruptible: the reader thread comes back by itself while the writer still holds the FIFO.
        awaitTrue(() -> fetcher.stuckFileReaders() == 0, "interrupted reader thread did not come back");
        assertTrue(fifoEnds.get(0).isOpen(), "the writer must still be there, or this proves nothing");
    }

    @Test
    void onceEveryReaderIsStuckFileFetchesFailAtOnceAndRecoverAfterwards() throws Exception {
        Path other = Files.write(root.resolve("b.jpg"), FileFetchTest.bytes(20));
        fetcher = fetcherSwappingToFifo(config(1), image, false);
        assertEquals(FetchStatus.FETCH_TIMEOUT, assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> fetcher.fetch(image.toUri().toString())).status());
        assertEquals(1, fetcher.stuckFileReaders());
        assertTrue(fetcher.allFileReadersStuck(), "what fails /ready");
        io.inferencefleet.worker.metrics.WorkerMetrics metrics = new io.inferencefleet.worker.metrics.WorkerMetrics();
        metrics.watchFetcher(fetcher::stuckFileReaders, fetcher::unexpectedFailures);
        assertEquals(1.0, stuckGauge(metrics), 0.0, "exported");

        // The only reader is stuck: answer now rather than let every record wait out its deadline.
        FetchResult r = fetcher.fetch(other.toUri().toString());
        assertEquals(FetchStatus.FETCH_FAILED, r.status(), r.detail());
        assertTrue(r.detail().contains("all 1 file reader threads are stuck"), r.detail());
        assertTrue(r.elapsedNs() < TimeUnit.MILLISECONDS.toNanos(READ_TIMEOUT_MS / 2), r.toString());

        release(image);
        awaitTrue(() -> fetcher.stuckFileReaders() == 0, "reader thread still counted as stuck");
        assertFalse(fetcher.allFileReadersStuck());
        assertEquals(0.0, stuckGauge(metrics), 0.0);
        FetchResult ok = fetcher.fetch(other.toUri().toString());
        assertEquals(FetchStatus.OK, ok.status(), ok.detail());
        assertArrayEquals(FileFetchTest.bytes(20), ok.bytes());
    }

    @Test
    void moreCallersThanReaderThreadsAllGetTheirFiles() throws Exception {
        fetcher = new ImageFetcher(config(2));
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Future<FetchResult>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                results.add(callers.submit(() -> fetcher.fetch(image.toUri().toString())));
            }
            for (Future<FetchResult> f : results) {
                FetchResult r = f.get(10, TimeUnit.SECONDS);
                assertEquals(FetchStatus.OK, r.status(), r.detail());
                assertArrayEquals(FileFetchTest.bytes(10), r.bytes());
            }
        } finally {
            callers.shutdownNow();
        }
        assertEquals(0, fetcher.stuckFileReaders());
    }

    @Test
    void closeAnswersQueuedAndInterruptibleReadsAtOnce() throws Exception {
        // One reader, stalled in read() with a 10 s deadline; a second fetch queues behind it.
        FetchConfig patient = config(1).withReadTimeoutMs(10_000);
        FileFetcher files = new FileFetcher(patient, swapToFifo(image, true));
        fetcher = new ImageFetcher(patient, files, new HttpFetcher(patient));
        ExecutorService callers = Executors.newFixedThreadPool(2);
        try {
            Future<FetchResult> stalled = callers.submit(() -> fetcher.fetch(image.toUri().toString()));
            awaitTrue(() -> fifoEnds.size() == 1, "reader never reached the FIFO");
            Path other = Files.write(root.resolve("b.jpg"), FileFetchTest.bytes(20));
            Future<FetchResult> queued = callers.submit(() -> fetcher.fetch(other.toUri().toString()));
            awaitTrue(() -> files.queuedReads() == 1, "second read never queued");

            long closedNs = System.nanoTime();
            fetcher.close();
            FetchResult s = stalled.get(2, TimeUnit.SECONDS);
            FetchResult q = queued.get(2, TimeUnit.SECONDS);
            assertTrue(System.nanoTime() - closedNs < TimeUnit.SECONDS.toNanos(2));
            assertEquals(FetchStatus.FETCH_FAILED, s.status(), s.detail());
            assertTrue(s.detail().contains("closing"), s.detail());
            assertEquals(FetchStatus.FETCH_FAILED, q.status(), q.detail());
            assertTrue(q.detail().contains("closed while reading"), q.detail());
        } finally {
            callers.shutdownNow();
        }
    }

    private FetchConfig config(int readerThreads) {
        return FetchConfig.defaults().withFileRoots(root).withReadTimeoutMs(READ_TIMEOUT_MS)
                .withFileReaderThreads(readerThreads);
    }

    /** A fetcher that, the first time it is about to open {@code victim}, replaces it with a FIFO. */
    private ImageFetcher fetcherSwappingToFifo(FetchConfig config, Path victim, boolean withStallingWriter)
            throws IOException {
        return new ImageFetcher(config, new FileFetcher(config, swapToFifo(victim, withStallingWriter)),
                new HttpFetcher(config));
    }

    private FileFetcher.Hooks swapToFifo(Path victim, boolean withStallingWriter) throws IOException {
        Path realVictim = victim.toRealPath();
        return new FileFetcher.Hooks() {
            @Override
            public void beforeOpen(Path real) throws IOException {
                swap(real, realVictim, withStallingWriter);
            }
        };
    }

    private void swap(Path real, Path realVictim, boolean withStallingWriter) throws IOException {
        if (real.equals(realVictim) && Files.isRegularFile(real)) {
            Files.delete(real);
            mkfifo(real);
            fifos.add(real);
            if (withStallingWriter) {
                // Read+write does not block on a Linux FIFO, so the test thread never waits for the fetcher.
                FileChannel writer = FileChannel.open(real, StandardOpenOption.READ, StandardOpenOption.WRITE);
                fifoEnds.add(writer);
                writer.write(ByteBuffer.wrap(new byte[] {1}));
            }
        }
    }

    /** Opens and closes a writing end, which lets a reader blocked in open() through to EOF. */
    private static void release(Path fifo) throws IOException {
        FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE).close();
    }

    static void mkfifo(Path path) throws IOException {
        try {
            Process p = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo " + path + ": " + output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running mkfifo", e);
        }
        assertTrue(Files.exists(path) && !Files.isRegularFile(path), path + " is not a FIFO");
    }

    private static void awaitTrue(BooleanSupplier condition, String message) throws InterruptedException {
        long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadlineNs, message);
            Thread.sleep(10);
        }
    }

    private static double stuckGauge(io.inferencefleet.worker.metrics.WorkerMetrics metrics) {
        return metrics.registry().scrape().stream()
                .filter(m -> m.getMetadata().getName().equals("fleet_fetch_stuck_file_readers"))
                .map(m -> ((io.prometheus.metrics.model.snapshots.GaugeSnapshot) m).getDataPoints().get(0).getValue())
                .findFirst().orElseThrow();
    }
}
