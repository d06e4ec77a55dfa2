package io.inferencefleet.worker.fetch;

/**
 * What one {@link ImageFetcher#fetch(String)} produced: a status, the image bytes when the status is
 * {@link FetchStatus#OK}, a detail message naming what was wrong otherwise, and how long it took.
 *
 * <p>Immutable once returned. The byte array is handed over, not copied: the fetcher keeps no
 * reference to it, so the caller owns it.
 */
public final class FetchResult {
    private static final byte[] NO_BYTES = new byte[0];

    private final FetchStatus status;
    private final byte[] bytes;
    private final String detail;
    private final long elapsedNs;

    private FetchResult(FetchStatus status, byte[] bytes, String detail, long elapsedNs) {
        this.status = status;
        this.bytes = bytes;
        this.detail = detail;
        this.elapsedNs = elapsedNs;
    }

    static FetchResult ok(byte[] bytes, long elapsedNs) {
        return new FetchResult(FetchStatus.OK, bytes, "", elapsedNs);
    }

    static FetchResult failed(FetchStatus status, String detail, long elapsedNs) {
        return new FetchResult(status, NO_BYTES, detail, elapsedNs);
    }

    public FetchStatus status() {
        return status;
    }

    public boolean isOk() {
        return status == FetchStatus.OK;
    }

    /** The whole image when {@link #isOk()}; an empty array otherwise. Owned by the caller. */
    public byte[] bytes() {
        return bytes;
    }

    /** Empty when OK; otherwise what was wrong, naming the URI (without query or user info) and the limit hit. */
    public String detail() {
        return detail;
    }

    /** Wall time of the fetch, from the call to the result, in nanoseconds. */
    public long elapsedNs() {
        return elapsedNs;
    }

    @Override
    public String toString() {
        return "FetchResult{" + status.code() + (isOk() ? ", " + bytes.length + " bytes" : ", " + detail)
                + ", elapsedNs=" + elapsedNs + '}';
    }
}
