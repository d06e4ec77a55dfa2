package io.inferencefleet.worker.fetch;

import java.net.URI;

/**
 * Where the bytes of one kind of URI come from: {@link FileFetcher} for {@code file:},
 * {@link HttpFetcher} for {@code http:}/{@code https:}. {@link ImageFetcher} parses the record's URI,
 * picks the source by scheme and hands it the {@link FetchAttempt}, so that every source shares one
 * deadline and the limits of one {@link FetchConfig}.
 *
 * <p>Contract: {@link #fetch} is thread-safe, answers every call with a {@link FetchResult} (never
 * throws for bad input or I/O trouble) and returns by about {@link FetchAttempt#deadlineNs}.
 */
interface ImageSource extends AutoCloseable {
    /**
     * @param uri already parsed, with a scheme this source serves (lower or upper case)
     * @param attempt when the call started and by when it must answer
     */
    FetchResult fetch(URI uri, FetchAttempt attempt);

    /** Releases threads; calls still in flight fail, later calls are not made. Idempotent. */
    @Override
    void close();
}
