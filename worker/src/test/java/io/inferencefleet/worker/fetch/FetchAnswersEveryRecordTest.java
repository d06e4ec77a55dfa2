package io.inferencefleet.worker.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever is thrown inside the fetcher, the record gets a {@link FetchResult}: a decoder lane that
 * saw an {@link Error} escape would lose the record (and Agrona's AgentRunner would rethrow it).
 */
class FetchAnswersEveryRecordTest {
    @TempDir
    Path tmp;
    private Path root;
    private Path image;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        image = Files.write(root.resolve("a.jpg"), FileFetchTest.bytes(10));
    }

    @Test
    void errorsOnTheCallersThreadAreAnsweredAndCounted() {
        List<Supplier<Throwable>> throwables = List.of(() -> new StackOverflowError(),
                () -> new OutOfMemoryError("simulated"), () -> new NoClassDefFoundError("simulated"),
                () -> new IllegalStateException("simulated"));
        FetchConfig config = FetchConfig.defaults().withAllowedHosts("127.0.0.1");
        for (Supplier<Throwable> throwable : throwables) {
            Throwable thrown = throwable.get();
            // The lookup of an IP literal runs on the caller's thread, so this throws right inside fetch().
            HttpFetcher http = new HttpFetcher(config, host -> {
                throwUnchecked(thrown);
                return new InetAddress[0];
            });
            try (ImageFetcher f = new ImageFetcher(config, new FileFetcher(config), http)) {
                FetchResult r = f.fetch("http://127.0.0.1/img");
                assertEquals(FetchStatus.FETCH_FAILED, r.status(), r.detail());
                assertTrue(r.detail().startsWith("unexpected " + thrown.getClass().getSimpleName()), r.detail());
                assertEquals(1, f.unexpectedFailures());
            }
        }
    }

    @Test
    void errorsOnAReaderThreadAreAnsweredAndCountedAndTheReaderCarriesOn() throws IOException {
        FetchConfig config = FetchConfig.defaults().withFileRoots(root).withFileReaderThreads(1);
        AtomicBoolean failNext = new AtomicBoolean(true);
        FileFetcher files = new FileFetcher(config, new FileFetcher.Hooks() {
            @Override
            public void beforeOpen(Path real) {
                if (failNext.getAndSet(false)) {
                    throw new NoClassDefFoundError("simulated");
                }
            }
        });
        try (ImageFetcher f = new ImageFetcher(config, files, new HttpFetcher(config))) {
            FetchResult r = f.fetch(image.toUri().toString());
            assertEquals(FetchStatus.FETCH_FAILED, r.status(), r.detail());
            assertTrue(r.detail().startsWith("unexpected NoClassDefFoundError (simulated) fetching "), r.detail());
            assertEquals(1, f.unexpectedFailures());
            assertEquals(0, f.stuckFileReaders());

            FetchResult next = f.fetch(image.toUri().toString());
            assertEquals(FetchStatus.OK, next.status(), next.detail());
            assertArrayEquals(FileFetchTest.bytes(10), next.bytes());
        }
    }

    @Test
    void heapTooFullForTheFileIsFetchFailedNotTooLarge() {
        FetchConfig config = FetchConfig.defaults().withFileRoots(root);
        FileFetcher files = new FileFetcher(config, new FileFetcher.Hooks() {
            @Override
            public byte[] allocate(int bytes) {
                throw new OutOfMemoryError("Java heap space");
            }
        });
        try (ImageFetcher f = new ImageFetcher(config, files, new HttpFetcher(config))) {
            FetchResult r = f.fetch(image.toUri().toString());
            // The image is within maxImageBytes: too_large would tell the client never to retry it.
            assertEquals(FetchStatus.FETCH_FAILED, r.status(), r.detail());
            assertTrue(r.detail().startsWith("no heap for the 10-byte file "), r.detail());
            assertTrue(r.detail().contains("maxImageBytes=" + FetchConfig.DEFAULT_MAX_IMAGE_BYTES), r.detail());
            assertEquals(0, f.unexpectedFailures(), "an anticipated condition, not a hole in our code");
        }
    }

    @Test
    void detailsQuoteBoundedExceptionMessages() {
        String huge = "m".repeat(100_000);
        FetchConfig config = FetchConfig.defaults().withAllowedHosts("127.0.0.1");
        HttpFetcher http = new HttpFetcher(config, host -> {
            throw new IllegalStateException(huge);
        });
        try (ImageFetcher f = new ImageFetcher(config, new FileFetcher(config), http)) {
            FetchResult r = f.fetch("http://127.0.0.1/img");
            assertEquals(FetchStatus.FETCH_FAILED, r.status());
            assertTrue(r.detail().length() < 600, r.detail().length() + " characters");
        }
    }

    @Test
    void aBodyThatCouldNotBeStartedFailsAtOnceAndReadsNothing() throws Exception {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        java.net.http.HttpResponse.BodySubscriber<BoundedBodySubscriber.Body> s = BoundedBodySubscriber.failed(oom);
        AtomicBoolean cancelled = new AtomicBoolean();
        s.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                throw new AssertionError("a failed body must not ask for bytes");
            }

            @Override
            public void cancel() {
                cancelled.set(true);
            }
        });
        s.onNext(List.of(ByteBuffer.allocate(10))); // a late delivery is ignored
        s.onComplete(); // and so is a late completion
        assertTrue(cancelled.get());
        CompletableFuture<BoundedBodySubscriber.Body> body = s.getBody().toCompletableFuture();
        ExecutionException e = assertThrows(ExecutionException.class, () -> body.get(1, TimeUnit.SECONDS));
        assertSame(oom, e.getCause());
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void throwUnchecked(Throwable t) throws T {
        throw (T) t;
    }
}
