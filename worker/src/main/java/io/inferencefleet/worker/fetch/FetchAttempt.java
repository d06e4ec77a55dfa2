package io.inferencefleet.worker.fetch;

import java.net.URI;
import java.util.concurrent.TimeUnit;

/**
 * One call of {@link ImageFetcher#fetch(String)} in progress: when it started and by when it must
 * answer, shared by every {@link ImageSource} so that all of them obey the same
 * {@link FetchConfig#readTimeoutMs()}. Also the one home of the helpers that build results and detail
 * messages ({@link #fail}, {@link #quote}, {@link #redact}, {@link #describe}), so that every source
 * reports in the same words and never leaks a query string or an unbounded input.
 *
 * <p>Confined to the fetching thread, except that its fields are final and may be read anywhere.
 */
final class FetchAttempt {
    /** Detail messages quote at most this much of a bad input, which may be arbitrarily long. */
    static final int MAX_QUOTED_CHARS = 200;

    final long startNs;
    final long deadlineNs;

    private FetchAttempt(long startNs, long deadlineNs) {
        this.startNs = startNs;
        this.deadlineNs = deadlineNs;
    }

    /** Starts now, due {@code config.readTimeoutMs()} from now. */
    static FetchAttempt start(FetchConfig config) {
        long now = System.nanoTime();
        return new FetchAttempt(now, now + TimeUnit.MILLISECONDS.toNanos(config.readTimeoutMs()));
    }

    /** Time left before the deadline; zero or negative once it has passed. */
    long remainingNs() {
        return deadlineNs - System.nanoTime();
    }

    FetchResult ok(byte[] bytes) {
        return FetchResult.ok(bytes, System.nanoTime() - startNs);
    }

    FetchResult fail(FetchStatus status, String detail) {
        return FetchResult.failed(status, detail, System.nanoTime() - startNs);
    }

    /** Scheme, host, port and path only: the query of a signed URL is a credential and must not reach logs. */
    static String redact(URI uri) {
        String port = uri.getPort() == -1 ? "" : ":" + uri.getPort();
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        return quote(uri.getScheme() + "://" + uri.getHost() + port + path);
    }

    /** {@code s} in single quotes, cut to {@value #MAX_QUOTED_CHARS} characters. */
    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        String cut = s.length() <= MAX_QUOTED_CHARS ? s : s.substring(0, MAX_QUOTED_CHARS) + "...";
        return '\'' + cut + '\'';
    }

    /** The exception's type and the first message in its cause chain: the HTTP client often throws without one. */
    static String describe(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                String message = c.getMessage();
                // Messages can embed whole inputs (a 100 kB URI): keep details bounded like everything else.
                if (message.length() > MAX_QUOTED_CHARS) {
                    message = message.substring(0, MAX_QUOTED_CHARS) + "...";
                }
                return t.getClass().getSimpleName() + " (" + message + ")";
            }
        }
        return t.getClass().getSimpleName();
    }
}
