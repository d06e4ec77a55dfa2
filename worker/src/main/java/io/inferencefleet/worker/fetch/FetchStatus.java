package io.inferencefleet.worker.fetch;

/**
 * Outcome of fetching one image. A bad or unreachable URI is a normal outcome on this path, reported
 * as a status with a stable {@link #code()} (used in error results), not as an exception.
 */
public enum FetchStatus {
    OK("ok"),
    /** The file does not exist under a root, or the server answered 404 or 410. */
    NOT_FOUND("not_found"),
    /**
     * Refused before (or instead of) reading: malformed URI, a scheme other than {@code file},
     * {@code http} or {@code https}, a path outside the file roots (directly, through {@code ..} or
     * through a symlink), a host that is not allow-listed, or a redirect to any of these.
     */
    FORBIDDEN_URI("forbidden_uri"),
    /** More bytes than {@link FetchConfig#maxImageBytes()}; reading stops one byte past the limit. */
    TOO_LARGE("too_large"),
    /** Connecting or the whole request took longer than the configured timeouts. */
    FETCH_TIMEOUT("fetch_timeout"),
    /** An I/O error, a non-2xx answer other than 404/410 (the status is in the detail), or too many redirects. */
    FETCH_FAILED("fetch_failed");

    private final String code;

    FetchStatus(String code) {
        this.code = code;
    }

    /** The stable string put in error results; never changes once released. */
    public String code() {
        return code;
    }
}
