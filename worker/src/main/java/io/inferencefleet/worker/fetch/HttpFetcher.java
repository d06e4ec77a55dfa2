package io.inferencefleet.worker.fetch;

import static io.inferencefleet.worker.fetch.FetchAttempt.describe;
import static io.inferencefleet.worker.fetch.FetchAttempt.quote;
import static io.inferencefleet.worker.fetch.FetchAttempt.redact;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code http:} and {@code https:} URIs on {@link FetchConfig#allowedHosts()}, whole body within the
 * attempt's deadline and {@link FetchConfig#maxImageBytes()}. Redirects are followed by hand (at most
 * {@link ImageFetcher#MAX_REDIRECTS}), each hop checked like the original URI, and never from
 * {@code https} down to {@code http}.
 *
 * <p>Each hop's host is looked up first, within the deadline, and refused if any address breaks the
 * rule in {@link FetchConfig}'s class comment (no loopback, link-local, any-local or multicast
 * addresses behind an allowed name). <b>Limitation, DNS rebinding:</b> the JDK 17 HTTP client cannot
 * be told which address to connect to, so it looks the name up again itself. It has no resolver hook
 * (JDK 18's {@code InetAddressResolverProvider} is JVM-wide), and connecting to the checked IP literal
 * instead would need the restricted {@code Host} header (a JVM-wide system property) and would break
 * TLS server name indication and certificate checks for {@code https}. What narrows the gap: we check
 * right before each request, and the client's lookup normally hits the JVM's own address cache that
 * our lookup has just filled ({@code networkaddress.cache.ttl}, 30 s by default), so it connects to an
 * address we checked unless that entry expires in between. A resolver that rebinds exactly then can
 * still win; closing that needs a client that connects to a given address (for example Netty or
 * OkHttp with a custom DNS), which is a dependency decision beyond this package.
 */
final class HttpFetcher implements ImageSource {
    /**
     * Threads for host lookups. Most lookups hit the JVM's address cache and take microseconds; the
     * bound matters when DNS hangs, because a lookup cannot be interrupted and holds its thread until the
     * OS resolver gives up (its timeout times its attempts, up to half a minute), long after the caller
     * stopped waiting. Unbounded, a DNS outage would cost a thread per request.
     */
    static final int LOOKUP_THREADS = 8;
    private static final AtomicInteger FETCHERS = new AtomicInteger();

    private final FetchConfig config;
    private final HostResolver resolver;
    private final ExecutorService httpExecutor;
    private final ThreadPoolExecutor lookups;
    private volatile HttpClient http;
    private volatile boolean closed;

    HttpFetcher(FetchConfig config) {
        this(config, HostResolver.SYSTEM);
    }

    HttpFetcher(FetchConfig config, HostResolver resolver) {
        this.config = config;
        this.resolver = resolver;
        if (config.allowedHosts().isEmpty()) {
            this.httpExecutor = null;
            this.lookups = null;
            this.http = null;
        } else {
            int id = FETCHERS.incrementAndGet();
            // Our own executor so that close() really releases the client's threads (JDK 17's HttpClient has no close).
            this.httpExecutor = Executors.newCachedThreadPool(daemons("fetch-http-" + id + "-"));
            this.lookups = new ThreadPoolExecutor(LOOKUP_THREADS, LOOKUP_THREADS, 10, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), daemons("fetch-dns-" + id + "-"));
            lookups.allowCoreThreadTimeOut(true);
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
            String hop = redirects == 0 ? "" : "redirected to ";
            String refused = refuse(uri);
            if (refused != null) {
                return attempt.fail(FetchStatus.FORBIDDEN_URI, hop + refused);
            }
            FetchResult badAddress = checkAddresses(uri, hop, attempt);
            if (badAddress != null) {
                return badAddress;
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
            CompletableFuture<HttpResponse<BoundedBodySubscriber.Body>> future;
            try {
                future = client.sendAsync(request, choice);
            } catch (RejectedExecutionException e) {
                return attempt.fail(FetchStatus.FETCH_FAILED, "ImageFetcher closed while fetching " + redact(uri));
            }
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

    /**
     * Looks the host up within the deadline and applies {@link FetchConfig#refusesAddress} to every
     * address; null if the request may go ahead, else the result to answer with.
     */
    private FetchResult checkAddresses(URI uri, String hop, FetchAttempt attempt) {
        String host = uri.getHost();
        InetAddress[] addresses;
        try {
            // A literal is parsed, never looked up: no reason to pay a thread hop.
            addresses = FetchConfig.isIpLiteral(host) ? resolver.resolve(host) : lookUpWithinDeadline(host, attempt);
        } catch (UnknownHostException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "cannot resolve host " + host + " of " + redact(uri) + ": "
                    + describe(e));
        } catch (TimeoutException e) {
            return attempt.fail(FetchStatus.FETCH_TIMEOUT, "looking up host " + host + " for " + redact(uri)
                    + " took longer than readTimeoutMs=" + config.readTimeoutMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return attempt.fail(FetchStatus.FETCH_FAILED, "interrupted while looking up host " + host);
        } catch (RejectedExecutionException | CancellationException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "ImageFetcher closed while fetching " + redact(uri));
        } catch (ExecutionException e) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "looking up host " + host + " failed: "
                    + describe(e.getCause()));
        }
        if (addresses == null || addresses.length == 0) {
            return attempt.fail(FetchStatus.FETCH_FAILED, "cannot resolve host " + host + " of " + redact(uri)
                    + ": no addresses");
        }
        int port = effectivePort(uri);
        for (InetAddress address : addresses) {
            String why = config.refusesAddress(host, port, address);
            if (why != null) {
                return attempt.fail(FetchStatus.FORBIDDEN_URI, hop + redact(uri) + ": " + why);
            }
        }
        return null;
    }

    /** A DNS lookup may take the OS resolver's timeouts times its retries: run it where we can stop waiting. */
    private InetAddress[] lookUpWithinDeadline(String host, FetchAttempt attempt)
            throws UnknownHostException, TimeoutException, InterruptedException, ExecutionException {
        long remainingNs = attempt.remainingNs();
        if (remainingNs <= 0) {
            throw new TimeoutException();
        }
        Future<InetAddress[]> lookup = lookups.submit(() -> resolver.resolve(host));
        try {
            return lookup.get(remainingNs, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownHostException) {
                throw (UnknownHostException) e.getCause();
            }
            throw e;
        } finally {
            if (!lookup.isDone()) {
                // A queued lookup is dropped; a running one goes on until the OS resolver gives up, unwaited for.
                lookup.cancel(true);
                lookups.remove((RunnableFuture<?>) lookup);
            }
        }
    }

    private static ThreadFactory daemons(String prefix) {
        AtomicInteger threads = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
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
        if (cause instanceof OutOfMemoryError) {
            // FETCH_FAILED, not TOO_LARGE: within the limit, and it may fit a moment later.
            return attempt.fail(FetchStatus.FETCH_FAILED, "no heap for the body of " + redact(uri) + " right now"
                    + " (OutOfMemoryError); is maxImageBytes=" + config.maxImageBytes() + " too large for this heap"
                    + " and number of lanes?");
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
            BoundedBodySubscriber s;
            try {
                s = new BoundedBodySubscriber(maxBytes, declared);
            } catch (OutOfMemoryError e) {
                return BoundedBodySubscriber.failed(e); // the buffer for the declared length did not fit
            }
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
            for (Runnable queued : lookups.shutdownNow()) {
                ((Future<?>) queued).cancel(false); // their callers answer now, not at their deadline
            }
        }
    }
}
