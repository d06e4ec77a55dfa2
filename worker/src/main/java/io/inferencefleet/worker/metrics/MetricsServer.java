package io.inferencefleet.worker.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * HTTP endpoints for operators: {@code /metrics} (Prometheus text format), {@code /health} (200 while
 * the worker runs) and {@code /ready} (200 once it consumes partitions and can write results, else
 * 503). A small pool of daemon threads, and a bound on the time a request may take to arrive, so
 * that a client sending half a request cannot keep the probes from answering.
 */
public final class MetricsServer implements AutoCloseable {
    /** Handler threads: a scrape and both probes at once, with one to spare for a slow client. */
    static final int THREADS = 4;
    /** Seconds a request may take to arrive, and a response to be sent (the JDK server's own timers). */
    static final String REQUEST_SECONDS = "5";

    static {
        // The JDK's HttpServer reads these once, when its first server is created; only set what the
        // user (or an embedding application) did not choose.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", REQUEST_SECONDS);
        }
        if (System.getProperty("sun.net.httpserver.maxRspTime") == null) {
            System.setProperty("sun.net.httpserver.maxRspTime", REQUEST_SECONDS);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;

    public MetricsServer(String host, int port, WorkerMetrics metrics, BooleanSupplier healthy, BooleanSupplier ready) {
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + " for metrics (metrics.port)", e);
        }
        java.util.concurrent.atomic.AtomicInteger threads = new java.util.concurrent.atomic.AtomicInteger();
        executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "metrics-http-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/metrics", new MetricsHandler(metrics.registry()));
        server.createContext("/health", exchange -> answer(exchange, healthy.getAsBoolean(), "healthy", "stopped"));
        server.createContext("/ready", exchange -> answer(exchange, ready.getAsBoolean(), "ready", "not ready"));
        server.start();
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void answer(HttpExchange exchange, boolean ok, String yes, String no) throws IOException {
        byte[] body = ((ok ? yes : no) + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
