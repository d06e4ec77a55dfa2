package io.inferencefleet.worker.fetch;

import static io.inferencefleet.worker.fetch.FetchAttempt.quote;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fetches the bytes of one image named by a record's {@code imageUri}, from a {@code file:} URI
 * under the configured roots or an {@code http:}/{@code https:} URI on an allow-listed host, within
 * the configured timeouts and byte limit. Every failure, including bad input, is a
 * {@link FetchStatus} with a detail message; {@link #fetch(String)} does not throw for them.
 *
 * <pre>{@code
 * try (ImageFetcher fetcher = new ImageFetcher(config)) {
 *     FetchResult r = fetcher.fetch(record.imageUri());
 *     if (!r.isOk()) { publishError(record, r.status().code(), r.detail()); return; }
 *     preprocessor.preprocess(r.bytes(), slot);
 * }
 * }</pre>
 *
 * <p>Thread-safe: one fetcher may serve many threads; each call blocks its thread until the result.
 * This class parses the URI and dispatches by scheme; the work is done by a {@code FileFetcher} and an
 * {@code HttpFetcher}, which share one deadline per call. Redirects are followed by hand (at most
 * {@value #MAX_REDIRECTS}), each hop checked like the original URI, and never from {@code https} down
 * to {@code http}. After {@link #close()}, {@code fetch} throws {@link IllegalStateException}.
 */
public final class ImageFetcher implements AutoCloseable {
    public static final int MAX_REDIRECTS = 5;
    /** When even building a detail message fails (the heap is exhausted), this answer is still at hand. */
    private static final FetchResult UNEXPECTED_WITHOUT_DETAIL = FetchResult.failed(FetchStatus.FETCH_FAILED,
            "unexpected error while fetching (no detail: building it failed too, the heap may be exhausted)", 0);

    private final FetchConfig config;
    private final FileFetcher files;
    private final HttpFetcher http;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong unexpectedFailures = new AtomicLong();

    public ImageFetcher(FetchConfig config) {
        this(config, new FileFetcher(config), new HttpFetcher(config));
    }

    /** With the given sources (tests inject seams through them); takes ownership of both. */
    ImageFetcher(FetchConfig config, FileFetcher files, HttpFetcher http) {
        this.config = config;
        this.files = files;
        this.http = http;
    }

    public FetchConfig config() {
        return config;
    }

    /**
     * Fetches {@code uri} whole, or says why not. Blocks for at most about
     * {@link FetchConfig#readTimeoutMs()}, for files as for HTTP.
     *
     * @param uri as it came in the record; {@code null}, blank and malformed values are {@link FetchStatus#FORBIDDEN_URI}
     * @throws IllegalStateException if the fetcher is closed
     */
    public FetchResult fetch(String uri) {
        if (closed.get()) {
            throw new IllegalStateException("ImageFetcher is closed");
        }
        FetchAttempt attempt = FetchAttempt.start(config);
        try {
            return parseAndDispatch(uri, attempt);
        } catch (Throwable t) {
            // A hole in our code, or an Error (out of memory, stack overflow, a missing class), must cost one
            // record, not the lane: AgentRunner would rethrow it and the record would never be answered. Nothing
            // is rethrown, VirtualMachineError included: the caller cannot answer the record after a throw, and
            // the JVM reports heap exhaustion on its own (and -XX:+ExitOnOutOfMemoryError, if set, still acts).
            unexpectedFailures.incrementAndGet();
            try {
                return attempt.fail(FetchStatus.FETCH_FAILED, "unexpected " + FetchAttempt.describe(t) + " fetching "
                        + quote(uri));
            } catch (Throwable again) {
                return UNEXPECTED_WITHOUT_DETAIL;
            }
        }
    }

    private FetchResult parseAndDispatch(String uri, FetchAttempt attempt) {
        if (uri == null || uri.isBlank()) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "missing image URI");
        }
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            return attempt.fail(FetchStatus.FORBIDDEN_URI, "malformed URI " + quote(uri) + ": " + e.getReason()
                    + " at index " + e.getIndex());
        }
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "file":
                return files.fetch(parsed, attempt);
            case "http":
            case "https":
                return http.fetch(parsed, attempt);
            case "":
                return attempt.fail(FetchStatus.FORBIDDEN_URI, "URI " + quote(uri) + " has no scheme (expected file:,"
                        + " http: or https:)");
            default:
                return attempt.fail(FetchStatus.FORBIDDEN_URI, "scheme " + quote(scheme) + " is not allowed (only"
                        + " file:, http:, https:)");
        }
    }

    /**
     * Fetches answered with {@link FetchStatus#FETCH_FAILED} because something was thrown that this
     * package did not expect: a bug to report (the detail names the exception), or an {@link Error}
     * such as {@link OutOfMemoryError}. Worth exporting as a counter; it should stay at zero.
     */
    public long unexpectedFailures() {
        return unexpectedFailures.get();
    }

    /**
     * File reader threads still blocked in the OS after their caller gave up: opening a FIFO that no
     * one writes, or a hung network mount. Not zero means something under the file roots is not a
     * plain file on a healthy disk; at {@link FetchConfig#fileReaderThreads()} every {@code file:}
     * fetch fails at once. Worth exporting as a gauge and failing {@code /ready} on.
     */
    public int stuckFileReaders() {
        return files.stuckReads();
    }

    /** True while every file reader thread is stuck: each {@code file:} fetch then fails at once (fails {@code /ready}). */
    public boolean allFileReadersStuck() {
        return files.stuckReads() >= config.fileReaderThreads();
    }

    /**
     * Releases the sources' threads. In-flight fetches fail: queued file reads and interruptible ones
     * at once, the rest by their deadline. A second close does nothing.
     */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        // Reverse order of construction, like every other close in the worker.
        http.close();
        files.close();
    }
}
