package io.inferencefleet.worker.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
    @Test
    void clientsSendingHalfARequestDoNotBlockTheProbes() throws Exception {
        // Regression: one handler thread and no read timeout: a client that sent half a request kept
        // /health and /ready from answering, so a supervisor would kill a healthy worker.
        try (MetricsServer server = new MetricsServer("127.0.0.1", 0, new WorkerMetrics(), () -> true, () -> false)) {
            List<Socket> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    Socket s = new Socket("127.0.0.1", server.port());
                    OutputStream out = s.getOutputStream();
                    out.write("GET /health HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));  // no blank line
                    out.flush();
                    stalled.add(s);
                }
                Thread.sleep(200);
                HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                HttpResponse<String> health = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/health")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, health.statusCode());
                HttpResponse<String> ready = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(503, ready.statusCode());
            } finally {
                for (Socket s : stalled) {
                    s.close();
                }
            }
        }
    }
}
