package io.inferencefleet.worker.fetch;

import static io.inferencefleet.worker.fetch.FetchAttempt.describe;
import static io.inferencefleet.worker.fetch.FetchAttempt.quote;
import static io.inferencefleet.worker.fetch.FetchAttempt.redact;

import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code http:} and {@code https:} URIs on {@link FetchConfig#allowedHosts()}, whole body within the
 * attempt's deadline and {@link FetchConfig#maxImageBytes()}. Redirects are followed by hand (at most
 * {@link ImageFetcher#MAX_REDIRECTS}), each hop checked like the original URI, and never from
 * {@code https} down to {@code http}.
 */
final class HttpFetcher implements ImageSource {
    private static final AtomicInteger FETCHERS = new AtomicInteger();

    private final FetchConfig config;
    private final ExecutorService httpExecutor;
    private volatile HttpClient http;
    private volatile boolean closed;

    HttpFetcher(FetchConfig config) {
        this.config = config;
        if (config.allowedHosts().isEmpty()) {
            this.httpExecutor = null;
            this.http = null;
        } else {
            // Our own executor so that close() really releases the client's threads (JDK 17's HttpClient has no close).
            String prefix = "fetch-http-" + FETCHERS.incrementAndGet() + "-";
            AtomicInteger threads = new AtomicInteger();
            this.httpExecutor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, prefix + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.http = HttpClient.newBuilder()
                    // NEVER: a redirect must pass the allow-list again, which only we can check.
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .connectTimeout(Duration.ofMillis(config.connectTimeoutMs()))
                    .executor(httpExecutor)
                    .build();
        }
    }

    @Override
    public FetchResult fetch(URI original, FetchAttempt attempt) {
        HttpClient client = http;
        if (client == null) {
            return closed
                    ? attempt.fail(FetchStatus.FETCH_FAILED, "ImageFetcher closed while fetching " + redact(original))
                    : attempt.fail(FetchStatus.FORBIDDEN_URI, "http(s) URIs are not allowed (no allowedHosts configured)");
        }
        URI uri = original;
        for (int redirects = 0; ; redirects++) {
            String refused = refuse(uri);
            if (refused != null) {
                return attempt.fail(FetchStatus.FORBIDDEN_URI, (redirects == 0 ? "" : "redirected to ") + refused);
            }
            long remainingNs = attempt.remainingNs();
            if (remainingNs <= 0) {
                return timedOut(uri, attempt);
            }
            HttpRequest request = HttpRequest.newBuilder(uri)
                    // Covers connect and headers inside the client (which then aborts the exchange itself).
                    .timeout(Duration.ofNanos(remainingNs))
                    .GET()
                    .build();
            BodyChoice choice = new BodyChoice(config.maxImageBytes());
            CompletableFuture<HttpResponse<BoundedBodySubscriber.Body>> future = client.sendAsync(request, choice);
            HttpResponse<BoundedBodySubscriber.Body> response;
            try {
                // Covers the body too, which the request timeout does not.
                response = future.get(remainingNs, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                choice.cancel();
                future.cancel(true);
                return timedOut(uri, attempt);
            } catch (InterruptedException e) {
                choice.cancel();
                future.cancel(true);
                Thread.currentThread().interrupt();
                return attempt.fail(FetchStatus.FETCH_FAILED, "interrupted while fetching " + redact(uri));
            } catch (ExecutionException e) {
                return failure(e.getCause(), uri, attempt);
            }

            int status = response.statusCode();
            if (status >= 200 && status <= 299) {
                BoundedBodySubscriber.Body body = response.body();
                if (body.tooLarge()) {
                    return attempt.fail(FetchStatus.TOO_LARGE, redact(uri) + " sent at least " + body.overLimitBytes
                            + " bytes, over maxImageBytes=" + config.maxImageBytes() + " (stopped reading)");
                }
                return attempt.ok(body.bytes);
            }
            if (status == 404 || status == 410) {
                return attempt.fail(FetchStatus.NOT_FOUND, "HTTP " + status + " from " + redact(uri));
            }
            if (isRedirect(status)) {
                String location = response.headers().firstValue("location").orElse(null);
                if (location == null) {
                    return attempt.fail(FetchStatus.FETCH_FAILED, "HTTP " + status + " without Location from "
                            + redact(uri));
                }
                if (redirects == ImageFetcher.MAX_REDIRECTS) {
                    return attempt.fail(FetchStatus.FETCH_FAILED, "more than " + ImageFetcher.MAX_REDIRECTS
                            + " redirects, last from " + redact(uri));
                }
                URI next;
                try {
                    next = uri.resolve(new URI(location));
                } catch (URISyntaxException | IllegalArgumentException e) {
                    return attempt.fail(FetchStatus.FORBIDDEN_URI, redact(uri) + " redirected to malformed location "
                            + quote(location));
                }
                if ("https".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(next.getScheme())) {
                    return attempt.fail(FetchStatus.FORBIDDEN_URI, redact(uri) + " redirected from https to "
                            + quote(next.getScheme() + ":"));
                }
                uri = next;
                continue;
            }
            return attempt.fail(FetchStatus.FETCH_FAILED, "HTTP " + status + " from " + redact(uri));
        }
    }

    /** Why {@code uri} may not be requested, or null if it may. */
    private String refuse(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return quote(uri.toString()) + ": scheme " + quote(scheme) + " is not allowed here";
        }
        if (uri.getHost() == null) {
            return quote(uri.toString()) + ": no valid host name";
        }
        if (uri.getRawUserInfo() != null) {
            return redact(uri) + ": user info in http(s) URIs is not allowed";
        }
        int port = effectivePort(uri);
        if (!config.allowsHost(uri.getHost(), port)) {
            return redact(uri) + ": host " + uri.getHost() + ":" + port + " is not in allowedHosts";
        }
        return null;
    }

    private FetchResult failure(Throwable cause, URI uri, FetchAttempt attempt) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException) {
                return attempt.fail(FetchStatus.FETCH_TIMEOUT, "connecting to " + uri.getHost() + ":"
                        + effectivePort(uri) + " took more than connectTimeoutMs=" + config.connectTimeoutMs());
            }
            if (t instanceof HttpTimeoutException) {
                return timedOut(uri, attempt);
            }
        }
        if (cause instanceof ConnectException) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "cannot connect to " + uri.getHost() + ":" + effectivePort(uri)
                    + ": " + describe(cause));
        }
        return attempt.fail(FetchStatus.FETCH_FAILED, "fetching " + redact(uri) + " failed: " + describe(cause));
    }

    private FetchResult timedOut(URI uri, FetchAttempt attempt) {
        return attempt.fail(FetchStatus.FETCH_TIMEOUT, "no complete response from " + redact(uri)
                + " within readTimeoutMs=" + config.readTimeoutMs());
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static int effectivePort(URI uri) {
        if (uri.getPort() != -1) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    /**
     * Picks the body subscriber once the status and headers are known: read a 2xx body up to the
     * limit, refuse one whose Content-Length is already over it, and read nothing of other answers
     * (an error page can be endless too).
     */
    private static final class BodyChoice implements HttpResponse.BodyHandler<BoundedBodySubscriber.Body> {
        private final int maxBytes;
        private volatile BoundedBodySubscriber reading;
        private volatile boolean cancelled;

        BodyChoice(int maxBytes) {
            this.maxBytes = maxBytes;
        }

        @Override
        public HttpResponse.BodySubscriber<BoundedBodySubscriber.Body> apply(HttpResponse.ResponseInfo info) {
            if (info.statusCode() < 200 || info.statusCode() > 299) {
                return BoundedBodySubscriber.refusing(0);
            }
            long declared = info.headers().firstValueAsLong("content-length").orElse(-1);
            if (declared > maxBytes) {
                return BoundedBodySubscriber.refusing(declared);
            }
            BoundedBodySubscriber s = new BoundedBodySubscriber(maxBytes, declared);
            reading = s;
            if (cancelled) {
                s.cancel();
            }
            return s;
        }

        void cancel() {
            cancelled = true;
            BoundedBodySubscriber s = reading;
            if (s != null) {
                s.cancel();
            }
        }
    }

    /** Releases the HTTP client's threads; in-flight fetches fail. A second close does nothing. */
    @Override
    public void close() {
        closed = true;
        http = null;
        if (httpExecutor != null) {
            httpExecutor.shutdownNow();
        }
    }
}
