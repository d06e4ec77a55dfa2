package io.inferencefleet.worker.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code http:} URIs against a real JDK HTTP server on 127.0.0.1. */
class HttpFetchTest {
    private static final int MAX_BYTES = 64 << 10;
    private static final long READ_TIMEOUT_MS = 300;
    private static final byte[] IMAGE = FileFetchTest.bytes(10_000);

    private static HttpServer server;
    private static ExecutorService serverThreads;
    private static String base;
    private static int port;
    /** Slow handlers wait on this, so that shutting down does not wait for them. */
    private static final CountDownLatch release = new CountDownLatch(1);
    private static final AtomicLong endlessBytesWritten = new AtomicLong();
    private static final AtomicReference<Throwable> endlessStoppedBy = new AtomicReference<>();
    private static volatile CountDownLatch endlessStopped = new CountDownLatch(1);

    private ImageFetcher fetcher;

    @BeforeAll
    static void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        serverThreads = Executors.newCachedThreadPool();
        server.setExecutor(serverThreads);
        port = server.getAddress().getPort();
        base = "http://127.0.0.1:" + port;
        route("/img", ex -> respond(ex, 200, IMAGE));
        route("/empty", ex -> respond(ex, 200, new byte[0]));
        route("/missing", ex -> respond(ex, 404, "no such image".getBytes()));
        route("/boom", ex -> respond(ex, 500, "internal error".getBytes()));
        route("/forbidden", ex -> respond(ex, 403, new byte[0]));
        route("/slow-headers", ex -> {
            await(release);
            respond(ex, 200, IMAGE);
        });
        route("/slow-body", ex -> {
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            out.write(IMAGE, 0, 100);
            out.flush();
            await(release);
            ex.close();
        });
        route("/declared-too-large", ex -> respond(ex, 200, FileFetchTest.bytes(MAX_BYTES + 1)));
        route("/endless", ex -> {
            // Chunked (length 0), no Content-Length: only the byte count can stop the client.
            ex.sendResponseHeaders(200, 0);
            byte[] chunk = new byte[8 << 10];
            long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            try (OutputStream out = ex.getResponseBody()) {
                while (System.nanoTime() < deadlineNs) {
                    out.write(chunk);
                    endlessBytesWritten.addAndGet(chunk.length);
                }
            } catch (IOException e) {
                endlessStoppedBy.set(e);
            } finally {
                endlessStopped.countDown();
            }
        });
        route("/redirect-ok", ex -> redirect(ex, "/img"));
        route("/redirect-other-host", ex -> redirect(ex, "http://localhost:" + port + "/img"));
        route("/redirect-file", ex -> redirect(ex, "file:///etc/passwd"));
        route("/redirect-loop", ex -> redirect(ex, "/redirect-loop"));
        route("/redirect-localtest", ex -> redirect(ex, "http://localtest:" + port + "/img"));
        server.start();
    }

    @AfterAll
    static void stopServer() {
        release.countDown();
        server.stop(0);
        serverThreads.shutdownNow();
    }

    @BeforeEach
    void setUp() {
        fetcher = new ImageFetcher(FetchConfig.defaults()
                .withAllowedHosts("127.0.0.1:" + port)
                .withMaxImageBytes(MAX_BYTES)
                .withConnectTimeoutMs(1_000)
                .withReadTimeoutMs(READ_TIMEOUT_MS));
    }

    @AfterEach
    void tearDown() {
        fetcher.close();
    }

    @Test
    void fetchesFromAnAllowedHost() {
        FetchResult r = fetcher.fetch(base + "/img");
        assertEquals(FetchStatus.OK, r.status(), r.detail());
        assertArrayEquals(IMAGE, r.bytes());
        assertEquals(0, fetcher.fetch(base + "/empty").bytes().length);
    }

    @Test
    void hostNotAllowListedIsForbiddenWithoutConnecting() {
        FetchResult r = fetcher.fetch("http://localhost:" + port + "/img");
        assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), r.detail());
        assertTrue(r.detail().contains("not in allowedHosts"), r.detail());
        // The allow-list entry names a port: the same host on another port is not allowed.
        assertEquals(FetchStatus.FORBIDDEN_URI, fetcher.fetch("http://127.0.0.1:1/img").status());
        assertEquals(FetchStatus.FORBIDDEN_URI, fetcher.fetch("https://127.0.0.1/img").status());
    }

    @Test
    void notFoundAndServerErrors() {
        FetchResult missing = fetcher.fetch(base + "/missing");
        assertEquals(FetchStatus.NOT_FOUND, missing.status(), missing.detail());
        assertTrue(missing.detail().contains("HTTP 404"), missing.detail());

        FetchResult boom = fetcher.fetch(base + "/boom?signature=s3cr3t");
        assertEquals(FetchStatus.FETCH_FAILED, boom.status(), boom.detail());
        assertTrue(boom.detail().contains("HTTP 500") && boom.detail().contains("/boom"), boom.detail());
        assertFalse(boom.detail().contains("s3cr3t"), "query strings may be credentials: " + boom.detail());

        assertEquals(FetchStatus.FETCH_FAILED, fetcher.fetch(base + "/forbidden").status());
    }

    @Test
    void slowHeadersTimeOut() {
        FetchResult r = fetcher.fetch(base + "/slow-headers");
        assertEquals(FetchStatus.FETCH_TIMEOUT, r.status(), r.detail());
        assertTrue(r.detail().contains("readTimeoutMs=" + READ_TIMEOUT_MS), r.detail());
        assertTrue(r.elapsedNs() < TimeUnit.MILLISECONDS.toNanos(READ_TIMEOUT_MS + 700), r.toString());
    }

    @Test
    void slowBodyTimesOutToo() {
        // Headers come at once; the request timeout alone would not cover the body.
        FetchResult r = fetcher.fetch(base + "/slow-body");
        assertEquals(FetchStatus.FETCH_TIMEOUT, r.status(), r.detail());
        assertTrue(r.elapsedNs() < TimeUnit.MILLISECONDS.toNanos(READ_TIMEOUT_MS + 700), r.toString());
    }

    @Test
    void declaredLengthOverTheLimitIsRefusedFromTheHeaders() {
        FetchResult r = fetcher.fetch(base + "/declared-too-large");
        assertEquals(FetchStatus.TOO_LARGE, r.status(), r.detail());
        assertTrue(r.detail().contains("over maxImageBytes=" + MAX_BYTES), r.detail());
    }

    @Test
    void endlessChunkedBodyIsCutOffAtTheLimit() throws InterruptedException {
        try (ImageFetcher patient = new ImageFetcher(fetcher.config().withReadTimeoutMs(10_000))) {
            FetchResult r = patient.fetch(base + "/endless");
            assertEquals(FetchStatus.TOO_LARGE, r.status(), r.detail());
            assertEquals(0, r.bytes().length);
            // Well before the 10 s timeout: we stopped, the server did not.
            assertTrue(r.elapsedNs() < TimeUnit.SECONDS.toNanos(2), r.toString());
            // The connection was dropped: the server's next writes failed (socket buffers absorb a few MB first).
            assertTrue(endlessStopped.await(3, TimeUnit.SECONDS), "server still writing after the client gave up");
            assertTrue(endlessStoppedBy.get() instanceof IOException, String.valueOf(endlessStoppedBy.get()));
            assertTrue(endlessBytesWritten.get() < (64L << 20), endlessBytesWritten.get() + " bytes written");
        }
    }

    @Test
    void redirectsAreFollowedOnlyWhereAllowed() {
        FetchResult ok = fetcher.fetch(base + "/redirect-ok");
        assertEquals(FetchStatus.OK, ok.status(), ok.detail());
        assertArrayEquals(IMAGE, ok.bytes());

        FetchResult otherHost = fetcher.fetch(base + "/redirect-other-host");
        assertEquals(FetchStatus.FORBIDDEN_URI, otherHost.status(), otherHost.detail());
        assertTrue(otherHost.detail().startsWith("redirected to ") && otherHost.detail().contains("localhost"),
                otherHost.detail());

        FetchResult toFile = fetcher.fetch(base + "/redirect-file");
        assertEquals(FetchStatus.FORBIDDEN_URI, toFile.status(), toFile.detail());

        FetchResult loop = fetcher.fetch(base + "/redirect-loop");
        assertEquals(FetchStatus.FETCH_FAILED, loop.status(), loop.detail());
        assertTrue(loop.detail().contains("more than " + ImageFetcher.MAX_REDIRECTS + " redirects"), loop.detail());
    }

    @Test
    void connectionRefusedIsAFailureNotAHang() throws IOException {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (ImageFetcher f = new ImageFetcher(fetcher.config().withAllowedHosts("127.0.0.1"))) {
            FetchResult r = f.fetch("http://127.0.0.1:" + closedPort + "/img");
            assertEquals(FetchStatus.FETCH_FAILED, r.status(), r.detail());
            assertTrue(r.detail().startsWith("cannot connect to 127.0.0.1:" + closedPort + ": ConnectException"),
                    r.detail());
        }
    }

    @Test
    void unsupportedSchemesAndGarbageAreForbidden() {
        String longGarbage = "x".repeat(100_000);
        String[] inputs = {null, "", "   ", "not a uri", "ftp://127.0.0.1:" + port + "/img", "data:image/png;base64,iVBORw0KGgo=",
                "jar:file:/tmp/x.jar!/a.png", "javascript:alert(1)", "http://", "http:///img", "//127.0.0.1/img",
                "relative/img.jpg", "/absolute/without/scheme.jpg", "http://[::1", "%zz", "\u0000",
                "http://user:pw@127.0.0.1:" + port + "/img", "HTTP://LOCALHOST:" + port + "/img", longGarbage,
                "http://127.0.0.1:" + port + "/" + longGarbage + " x"};
        for (String uri : inputs) {
            FetchResult r = fetcher.fetch(uri);
            String shown = uri == null ? "null" : uri.substring(0, Math.min(uri.length(), 60));
            assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), shown + " -> " + r.detail());
            assertEquals("forbidden_uri", r.status().code());
            assertFalse(r.detail().isEmpty(), shown);
            assertTrue(r.detail().length() < 600, "detail quotes a bounded part of the input: " + r.detail().length());
            assertFalse(r.detail().contains("pw@"), r.detail());
        }
    }

    @Test
    void allowedNameThatResolvesToLoopbackIsForbiddenNamingHostAndAddress() {
        // "localtest" is allowed by name; DNS (the test resolver) points it at this machine.
        for (String address : new String[] {"127.0.0.1", "127.9.8.7", "::1"}) {
            try (ImageFetcher f = resolving(Map.of("localtest", new String[] {address}), "localtest:" + port)) {
                FetchResult r = f.fetch("http://localtest:" + port + "/img");
                assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), r.detail());
                assertTrue(r.detail().contains("host localtest resolves to loopback address "
                        + InetAddress.getByName(address).getHostAddress()), r.detail());
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void metadataLinkLocalAnyLocalAndMulticastAddressesBehindAnAllowedNameAreForbidden() {
        Map<String, String> kinds = Map.of(
                "169.254.169.254", "link-local", "fe80::1", "link-local", "0.0.0.0", "any-local", "0.1.2.3", "any-local",
                "::", "any-local", "224.0.0.1", "multicast", "ff02::1", "multicast",
                "::127.0.0.1", "loopback"); // IPv4-compatible IPv6, judged by its IPv4 part
        for (Map.Entry<String, String> e : kinds.entrySet()) {
            try (ImageFetcher f = resolving(Map.of("images.example.com", new String[] {e.getKey()}),
                    "images.example.com")) {
                FetchResult r = f.fetch("https://images.example.com/cat.jpg?sig=s3cr3t");
                assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), e.getKey() + " -> " + r.detail());
                assertTrue(r.detail().contains("host images.example.com resolves to " + e.getValue() + " address "),
                        r.detail());
                assertFalse(r.detail().contains("s3cr3t"), r.detail());
            }
        }
        // Any address counts, not only the first one the client would try.
        try (ImageFetcher f = resolving(Map.of("images.example.com", new String[] {"93.184.216.34", "169.254.169.254"}),
                "images.example.com")) {
            FetchResult r = f.fetch("https://images.example.com/cat.jpg");
            assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), r.detail());
            assertTrue(r.detail().contains("169.254.169.254"), r.detail());
        }
    }

    @Test
    void redirectToAnAllowedNameThatResolvesToLoopbackIsForbidden() {
        // The first hop is localhost, listed explicitly (allowed); the redirect's name is checked again. Listing
        // 127.0.0.1 instead would allow localtest too: a listed address is allowed behind any allowed name.
        try (ImageFetcher f = resolving(Map.of("localhost", new String[] {"127.0.0.1"}, "localtest",
                new String[] {"127.0.0.1"}), "localhost:" + port, "localtest:" + port)) {
            FetchResult r = f.fetch("http://localhost:" + port + "/redirect-localtest");
            assertEquals(FetchStatus.FORBIDDEN_URI, r.status(), r.detail());
            assertTrue(r.detail().startsWith("redirected to ") && r.detail().contains("resolves to loopback address"
                    + " 127.0.0.1"), r.detail());
        }
    }

    @Test
    void localhostListedExplicitlyMayReachLoopback() {
        try (ImageFetcher f = new ImageFetcher(fetcher.config().withAllowedHosts("localhost:" + port))) {
            FetchResult r = f.fetch("http://localhost:" + port + "/img");
            assertEquals(FetchStatus.OK, r.status(), r.detail());
            assertArrayEquals(IMAGE, r.bytes());
        }
    }

    @Test
    void hostLookupObeysTheDeadline() {
        CountDownLatch never = new CountDownLatch(1);
        HttpFetcher http = new HttpFetcher(fetcher.config().withAllowedHosts("slow-dns.example"), host -> {
            await(never); // a resolver that does not answer
            throw new UnknownHostException(host);
        });
        try (ImageFetcher f = new ImageFetcher(fetcher.config(), new FileFetcher(fetcher.config()), http)) {
            FetchResult r = f.fetch("http://slow-dns.example/img");
            assertEquals(FetchStatus.FETCH_TIMEOUT, r.status(), r.detail());
            assertTrue(r.detail().contains("looking up host slow-dns.example"), r.detail());
            assertTrue(r.elapsedNs() < TimeUnit.MILLISECONDS.toNanos(READ_TIMEOUT_MS + 700), r.toString());
        } finally {
            never.countDown();
        }
    }

    @Test
    void hungDnsCostsABoundedNumberOfThreads() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        FetchConfig config = fetcher.config().withAllowedHosts("slow-dns.example").withReadTimeoutMs(100);
        HttpFetcher http = new HttpFetcher(config, host -> {
            await(never);
            throw new UnknownHostException(host);
        });
        ExecutorService lanes = Executors.newFixedThreadPool(4);
        try (ImageFetcher f = new ImageFetcher(config, new FileFetcher(config), http)) {
            List<Future<FetchResult>> results = new ArrayList<>();
            for (int i = 0; i < 3 * HttpFetcher.LOOKUP_THREADS; i++) {
                results.add(lanes.submit(() -> f.fetch("http://slow-dns.example/img")));
            }
            for (Future<FetchResult> r : results) {
                assertEquals(FetchStatus.FETCH_TIMEOUT, r.get(10, TimeUnit.SECONDS).status());
            }
            long dnsThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("fetch-dns-")).count();
            assertTrue(dnsThreads <= HttpFetcher.LOOKUP_THREADS, dnsThreads + " lookup threads");
        } finally {
            never.countDown();
            lanes.shutdownNow();
        }
    }

    @Test
    void unknownHostIsAFailure() {
        try (ImageFetcher f = resolving(Map.of(), "nowhere.example")) {
            FetchResult r = f.fetch("http://nowhere.example/img");
            assertEquals(FetchStatus.FETCH_FAILED, r.status(), r.detail());
            assertTrue(r.detail().startsWith("cannot resolve host nowhere.example"), r.detail());
        }
    }

    /** A fetcher on the shared config with {@code allowed} hosts and a resolver that knows only {@code names}. */
    private ImageFetcher resolving(Map<String, String[]> names, String... allowed) {
        FetchConfig config = fetcher.config().withAllowedHosts(allowed);
        HttpFetcher http = new HttpFetcher(config, host -> {
            String[] literals = names.get(host);
            if (literals == null) {
                throw new UnknownHostException(host);
            }
            InetAddress[] addresses = new InetAddress[literals.length];
            for (int i = 0; i < literals.length; i++) {
                addresses[i] = InetAddress.getByName(literals[i]); // literals: parsed, not looked up
            }
            return addresses;
        });
        return new ImageFetcher(config, new FileFetcher(config), http);
    }

    private static void route(String path, HttpHandler handler) {
        server.createContext(path, ex -> {
            try {
                handler.handle(ex);
            } finally {
                ex.close();
            }
        });
    }

    private static void respond(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static void redirect(HttpExchange ex, String location) throws IOException {
        ex.getResponseHeaders().set("Location", location);
        ex.sendResponseHeaders(302, -1);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
