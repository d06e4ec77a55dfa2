package io.inferencefleet.worker.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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
 * Redirects are followed by hand (at most {@value #MAX_REDIRECTS}), each hop checked like the
 * original URI, and never from {@code https} down to {@code http}. After {@link #close()},
 * {@code fetch} throws {@link IllegalStateException}.
 */
public final class ImageFetcher implements AutoCloseable {
    public static final int MAX_REDIRECTS = 5;
    /** Detail messages quote at most this much of a bad input, which may be arbitrarily long. */
    private static final int MAX_QUOTED_CHARS = 200;
    private static final AtomicInteger FETCHERS = new AtomicInteger();

    private final FetchConfig config;
    private final long readTimeoutNs;
    private final ExecutorService httpExecutor;
    private volatile HttpClient http;
    private final AtomicBoolean closed = new AtomicBoolean();

    public ImageFetcher(FetchConfig config) {
        this.config = config;
        this.readTimeoutNs = TimeUnit.MILLISECONDS.toNanos(config.readTimeoutMs());
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

    public FetchConfig config() {
        return config;
    }

    /**
     * Fetches {@code uri} whole, or says why not. Blocks for at most about
     * {@link FetchConfig#readTimeoutMs()} for HTTP; {@code file:} reads are bounded by size only.
     *
     * @param uri as it came in the record; {@code null}, blank and malformed values are {@link FetchStatus#FORBIDDEN_URI}
     * @throws IllegalStateException if the fetcher is closed
     */
    public FetchResult fetch(String uri) {
        if (closed.get()) {
            throw new IllegalStateException("ImageFetcher is closed");
        }
        long startNs = System.nanoTime();
        try {
            return fetchOrRefuse(uri, startNs);
        } catch (RuntimeException e) {
            // A hole in our checks must cost one record, not the worker thread.
            return fail(FetchStatus.FETCH_FAILED, "unexpected " + e + " fetching " + quote(uri), startNs);
        }
    }

    private FetchResult fetchOrRefuse(String uri, long startNs) {
        if (uri == null || uri.isBlank()) {
            return fail(FetchStatus.FORBIDDEN_URI, "missing image URI", startNs);
        }
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            return fail(FetchStatus.FORBIDDEN_URI, "malformed URI " + quote(uri) + ": " + e.getReason()
                    + " at index " + e.getIndex(), startNs);
        }
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "file":
                return fetchFile(parsed, startNs);
            case "http":
            case "https":
                return fetchHttp(parsed, startNs);
            case "":
                return fail(FetchStatus.FORBIDDEN_URI, "URI " + quote(uri) + " has no scheme (expected file:, http: or"
                        + " https:)", startNs);
            default:
                return fail(FetchStatus.FORBIDDEN_URI, "scheme " + quote(scheme) + " is not allowed (only file:, http:,"
                        + " https:)", startNs);
        }
    }

    // ---- file: ------------------------------------------------------------------------------------------------

    private FetchResult fetchFile(URI uri, long startNs) {
        if (config.fileRoots().isEmpty()) {
            return fail(FetchStatus.FORBIDDEN_URI, "file: URIs are not allowed (no fileRoots configured)", startNs);
        }
        if (uri.isOpaque() || uri.getPath() == null || !uri.getPath().startsWith("/")) {
            return fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString())
                    + " is not absolute (expected file:///dir/image.jpg)", startNs);
        }
        if (uri.getRawAuthority() != null) {
            return fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString()) + " names a host ("
                    + quote(uri.getRawAuthority()) + "); only local files are allowed", startNs);
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return fail(FetchStatus.FORBIDDEN_URI, "file URI " + quote(uri.toString())
                    + " has a query or fragment (encode ? and # in file names as %3F and %23)", startNs);
        }
        String path = uri.getPath(); // decoded, so %2e%2e is caught as ..
        for (String segment : path.split("/")) {
            if (segment.equals("..")) {
                return fail(FetchStatus.FORBIDDEN_URI, "file path " + quote(path) + " contains '..'", startNs);
            }
        }
        Path named;
        try {
            named = Path.of(path).normalize();
        } catch (InvalidPathException e) {
            return fail(FetchStatus.FORBIDDEN_URI, "file path " + quote(path) + " is invalid: " + e.getReason(), startNs);
        }
        // Refuse before touching the file system, so that callers cannot probe which files exist elsewhere.
        if (!underAny(named, config.namedFileRoots())) {
            return fail(FetchStatus.FORBIDDEN_URI, "file " + named + " is outside the file roots " + config.fileRoots(),
                    startNs);
        }
        Path real;
        try {
            real = named.toRealPath();
        } catch (NoSuchFileException e) {
            return fail(FetchStatus.NOT_FOUND, "no file " + named, startNs);
        } catch (IOException e) {
            return fail(FetchStatus.FETCH_FAILED, "cannot resolve " + named + ": " + e, startNs);
        }
        if (!underAny(real, config.fileRoots())) {
            return fail(FetchStatus.FORBIDDEN_URI, "file " + named + " resolves through a symlink to outside the file"
                    + " roots " + config.fileRoots(), startNs);
        }
        try {
            BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile()) {
                // Directories, FIFOs and devices: a FIFO would block us forever, a device may never end.
                return fail(FetchStatus.NOT_FOUND, named + " is not a regular file", startNs);
            }
            long sizeBytes = attributes.size();
            if (sizeBytes > config.maxImageBytes()) {
                return fail(FetchStatus.TOO_LARGE, "file " + named + " is " + sizeBytes + " bytes, over maxImageBytes="
                        + config.maxImageBytes(), startNs);
            }
            byte[] bytes = new byte[(int) sizeBytes];
            // NOFOLLOW: the last component must still be the file we checked, not a symlink swapped in since.
            try (InputStream in = Files.newInputStream(real, LinkOption.NOFOLLOW_LINKS)) {
                int read = in.readNBytes(bytes, 0, bytes.length);
                if (read < bytes.length || in.read() != -1) {
                    // Probably still being written; a partial image would only fail later, less clearly.
                    return fail(FetchStatus.FETCH_FAILED, "file " + named + " changed size while being read (was "
                            + sizeBytes + " bytes)", startNs);
                }
            }
            return FetchResult.ok(bytes, System.nanoTime() - startNs);
        } catch (NoSuchFileException e) {
            return fail(FetchStatus.NOT_FOUND, "file " + named + " disappeared while being read", startNs);
        } catch (IOException e) {
            return fail(FetchStatus.FETCH_FAILED, "cannot read " + named + ": " + e, startNs);
        }
    }

    private static boolean underAny(Path path, List<Path> roots) {
        for (Path root : roots) {
            if (path.startsWith(root)) { // by whole components: /data/rootX is not under /data/root
                return true;
            }
        }
        return false;
    }

    // ---- http: and https: -------------------------------------------------------------------------------------

    private FetchResult fetchHttp(URI original, long startNs) {
        HttpClient client = http;
        if (client == null) {
            return closed.get()
                    ? fail(FetchStatus.FETCH_FAILED, "ImageFetcher closed while fetching " + redact(original), startNs)
                    : fail(FetchStatus.FORBIDDEN_URI, "http(s) URIs are not allowed (no allowedHosts configured)",
                            startNs);
        }
        long deadlineNs = startNs + readTimeoutNs;
        URI uri = original;
        for (int redirects = 0; ; redirects++) {
            String refused = refuseHttp(uri);
            if (refused != null) {
                return fail(FetchStatus.FORBIDDEN_URI, (redirects == 0 ? "" : "redirected to ") + refused, startNs);
            }
            long remainingNs = deadlineNs - System.nanoTime();
            if (remainingNs <= 0) {
                return timedOut(uri, startNs);
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
                return timedOut(uri, startNs);
            } catch (InterruptedException e) {
                choice.cancel();
                future.cancel(true);
                Thread.currentThread().interrupt();
                return fail(FetchStatus.FETCH_FAILED, "interrupted while fetching " + redact(uri), startNs);
            } catch (ExecutionException e) {
                return failure(e.getCause(), uri, startNs);
            }

            int status = response.statusCode();
            if (status >= 200 && status <= 299) {
                BoundedBodySubscriber.Body body = response.body();
                if (body.tooLarge()) {
                    return fail(FetchStatus.TOO_LARGE, redact(uri) + " sent at least " + body.overLimitBytes
                            + " bytes, over maxImageBytes=" + config.maxImageBytes() + " (stopped reading)", startNs);
                }
                return FetchResult.ok(body.bytes, System.nanoTime() - startNs);
            }
            if (status == 404 || status == 410) {
                return fail(FetchStatus.NOT_FOUND, "HTTP " + status + " from " + redact(uri), startNs);
            }
            if (isRedirect(status)) {
                String location = response.headers().firstValue("location").orElse(null);
                if (location == null) {
                    return fail(FetchStatus.FETCH_FAILED, "HTTP " + status + " without Location from " + redact(uri),
                            startNs);
                }
                if (redirects == MAX_REDIRECTS) {
                    return fail(FetchStatus.FETCH_FAILED, "more than " + MAX_REDIRECTS + " redirects, last from "
                            + redact(uri), startNs);
                }
                URI next;
                try {
                    next = uri.resolve(new URI(location));
                } catch (URISyntaxException | IllegalArgumentException e) {
                    return fail(FetchStatus.FORBIDDEN_URI, redact(uri) + " redirected to malformed location "
                            + quote(location), startNs);
                }
                if ("https".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(next.getScheme())) {
                    return fail(FetchStatus.FORBIDDEN_URI, redact(uri) + " redirected from https to "
                            + quote(next.getScheme() + ":"), startNs);
                }
                uri = next;
                continue;
            }
            return fail(FetchStatus.FETCH_FAILED, "HTTP " + status + " from " + redact(uri), startNs);
        }
    }

    /** Why {@code uri} may not be requested, or null if it may. */
    private String refuseHttp(URI uri) {
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

    private FetchResult failure(Throwable cause, URI uri, long startNs) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException) {
                return fail(FetchStatus.FETCH_TIMEOUT, "connecting to " + uri.getHost() + ":" + effectivePort(uri)
                        + " took more than connectTimeoutMs=" + config.connectTimeoutMs(), startNs);
            }
            if (t instanceof HttpTimeoutException) {
                return timedOut(uri, startNs);
            }
        }
        if (cause instanceof ConnectException) {
            return fail(FetchStatus.FETCH_FAILED, "cannot connect to " + uri.getHost() + ":" + effectivePort(uri) + ": "
                    + describe(cause), startNs);
        }
        return fail(FetchStatus.FETCH_FAILED, "fetching " + redact(uri) + " failed: " + describe(cause), startNs);
    }

    /** The exception's type and the first message in its cause chain: the HTTP client often throws without one. */
    private static String describe(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                return t.getClass().getSimpleName() + " (" + c.getMessage() + ")";
            }
        }
        return t.getClass().getSimpleName();
    }

    private FetchResult timedOut(URI uri, long startNs) {
        return fail(FetchStatus.FETCH_TIMEOUT, "no complete response from " + redact(uri) + " within readTimeoutMs="
                + config.readTimeoutMs(), startNs);
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

    /** Scheme, host, port and path only: the query of a signed URL is a credential and must not reach logs. */
    private static String redact(URI uri) {
        String port = uri.getPort() == -1 ? "" : ":" + uri.getPort();
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        return quote(uri.getScheme() + "://" + uri.getHost() + port + path);
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        String cut = s.length() <= MAX_QUOTED_CHARS ? s : s.substring(0, MAX_QUOTED_CHARS) + "...";
        return '\'' + cut + '\'';
    }

    private static FetchResult fail(FetchStatus status, String detail, long startNs) {
        return FetchResult.failed(status, detail, System.nanoTime() - startNs);
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
        if (closed.getAndSet(true)) {
            return;
        }
        http = null;
        if (httpExecutor != null) {
            httpExecutor.shutdownNow();
        }
    }
}
