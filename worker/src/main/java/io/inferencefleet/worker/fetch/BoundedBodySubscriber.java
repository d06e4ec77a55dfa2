package io.inferencefleet.worker.fetch;

import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a response body into one array of at most {@code maxBytes}, cancelling the subscription
 * (which makes the HTTP client drop the connection) as soon as more arrives. Keeps nothing past the
 * limit: a server streaming an endless body costs us {@code maxBytes} plus the client's read buffer.
 *
 * <p>One per response. Signals arrive serially (Flow contract); {@link #cancel()} may come from the
 * fetching thread at any time.
 */
final class BoundedBodySubscriber implements BodySubscriber<BoundedBodySubscriber.Body> {
    /** Unknown length: start small, most images are far below the limit. */
    private static final int UNKNOWN_LENGTH_INITIAL_BYTES = 64 << 10;

    /** A whole body, or the fact that it did not fit. */
    static final class Body {
        final byte[] bytes;
        /** Set when the body was cut off: at least this many bytes were offered. */
        final long overLimitBytes;

        private Body(byte[] bytes, long overLimitBytes) {
            this.bytes = bytes;
            this.overLimitBytes = overLimitBytes;
        }

        boolean tooLarge() {
            return overLimitBytes > 0;
        }
    }

    private final int maxBytes;
    private final CompletableFuture<Body> body = new CompletableFuture<>();
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;
    private byte[] buffer;
    private int length;

    /** @param declaredBytes Content-Length if the server sent one (at most {@code maxBytes}), else -1 */
    BoundedBodySubscriber(int maxBytes, long declaredBytes) {
        this.maxBytes = maxBytes;
        this.buffer = new byte[(int) (declaredBytes >= 0 ? declaredBytes : Math.min(maxBytes, UNKNOWN_LENGTH_INITIAL_BYTES))];
    }

    /** A subscriber that reads nothing: for bodies we already know we do not want. */
    static BodySubscriber<Body> refusing(long overLimitBytes) {
        BoundedBodySubscriber s = new BoundedBodySubscriber(0, 0);
        s.cancelled = true;
        s.body.complete(new Body(new byte[0], overLimitBytes));
        return s;
    }

    /** A subscriber that reads nothing and fails with {@code error}: for a body we could not even start. */
    static BodySubscriber<Body> failed(Throwable error) {
        BoundedBodySubscriber s = new BoundedBodySubscriber(0, 0);
        s.cancelled = true;
        s.body.completeExceptionally(error);
        return s;
    }

    /** Stops reading; safe from any thread, before or after the subscription arrives. */
    void cancel() {
        cancelled = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (cancelled) {
            s.cancel();
        } else {
            // One list of buffers at a time, so we can stop at the limit without the client racing ahead.
            s.request(1);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        if (body.isDone()) {
            return;
        }
        try {
            for (ByteBuffer item : items) {
                int n = item.remaining();
                if ((long) length + n > maxBytes) {
                    subscription.cancel();
                    body.complete(new Body(new byte[0], (long) length + n));
                    return;
                }
                if (length + n > buffer.length) {
                    buffer = Arrays.copyOf(buffer, (int) Math.min(maxBytes, Math.max((long) buffer.length * 2,
                            length + n)));
                }
                item.get(buffer, length, n);
                length += n;
            }
        } catch (Throwable t) {
            // Growing the buffer can run out of heap: fail this body at once rather than leave it to the client
            // (whose handling of a throwing subscriber is unspecified) and the fetch to its deadline.
            buffer = null;
            subscription.cancel();
            body.completeExceptionally(t);
            return;
        }
        if (cancelled) {
            subscription.cancel();
        } else {
            subscription.request(1);
        }
    }

    @Override
    public void onError(Throwable t) {
        body.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        if (body.isDone()) {
            return; // cut off or failed already (buffer may be gone); a late completion changes nothing
        }
        body.complete(new Body(length == buffer.length ? buffer : Arrays.copyOf(buffer, length), 0));
    }

    @Override
    public CompletionStage<Body> getBody() {
        return body;
    }
}
