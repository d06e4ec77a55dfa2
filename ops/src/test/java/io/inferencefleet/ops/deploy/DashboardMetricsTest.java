package io.inferencefleet.ops.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.testing.KafkaBroker;
import io.inferencefleet.testing.SharedImages;
import io.inferencefleet.worker.Worker;
import io.inferencefleet.worker.config.WorkerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard in {@code ops/grafana} charts only series a worker exports: every metric name
 * in its PromQL (panel queries and template variables) is among the sample names a live worker's
 * {@code /metrics} shows after answering requests (real broker, tiny model, shared photos).
 */
class DashboardMetricsTest {
    static final Path DASHBOARD = Path.of("grafana/inference-fleet.json");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "inf", "nan");

    @TempDir
    Path temp;

    @Test
    void theNameParserFindsMetricsAndSkipsFunctionsLabelsAndKeywords() {
        assertEquals(Set.of("fleet_request_seconds_bucket"), metricNames(
                "histogram_quantile(0.99, sum by (le, stage) (rate(fleet_request_seconds_bucket{instance=~\"$instance\", "
                + "stage!=\"x y\"}[$__rate_interval])))"));
        assertEquals(Set.of("a_total", "b_total"), metricNames("sum without (code) (rate(a_total[5m])) / on (instance)"
                + " group_left max(b_total offset 1h) > bool 1e3"));
        assertEquals(Set.of("fleet_in_flight"), metricNames(promql("label_values(fleet_in_flight{job=\"w\"}, instance)")));
    }

    @Test
    void everyPanelHasAQueryAndNamesAMetric() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        int charts = 0;
        for (JsonNode panel : dashboard.get("panels")) {
            if (panel.get("type").asText().equals("row")) {
                continue;
            }
            charts++;
            assertTrue(panel.get("targets").size() > 0, panel.get("title") + " has no query");
            for (JsonNode target : panel.get("targets")) {
                assertFalse(metricNames(target.get("expr").asText()).isEmpty(), panel.get("title") + ": " + target);
            }
        }
        assertTrue(charts >= 10, "the dashboard has its charts: " + charts);
    }

    @Tag("slow")
    @Test
    void everyMetricTheDashboardQueriesIsExportedByALiveWorker() throws Exception {
        Set<String> queried = new TreeSet<>();
        for (String expr : expressions(new ObjectMapper().readTree(DASHBOARD.toFile()))) {
            queried.addAll(metricNames(expr));
        }
        assertTrue(queried.containsAll(Set.of("fleet_requests_total", "fleet_request_seconds_bucket",
                "fleet_stage_seconds_bucket", "fleet_in_flight", "fleet_intake_pauses_total", "fleet_consumer_lag_records",
                "fleet_predictor_busy_seconds_total", "jvm_memory_used_bytes", "jvm_gc_collection_seconds_sum")),
                "results, latency, stages, in-flight, pauses, lag, busy share, heap and GC are charted: " + queried);

        Set<String> exported;
        try (KafkaBroker broker = new KafkaBroker()) {
            broker.createTopic("images", 1);
            broker.createTopic("predictions", 1);
            Path model = Files.createDirectories(temp.resolve("tiny"));
            BuiltinModels.generate("tiny", model, 1);
            Path images = SharedImages.dir();
            Map<String, String> flags = new HashMap<>();
            flags.put("bootstrap.servers", broker.bootstrapServers());
            flags.put("model.dir", model.toString());
            flags.put("fetch.file.roots", images.toString());
            flags.put("predictor.threads", "1");
            flags.put("shm.dir", temp.resolve("shm").toString());
            flags.put("metrics.port", "0");
            flags.put("worker.id", "dashboard-it");
            MessageCodec codec = new MessageCodec();
            try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags));
                 KafkaProducer<byte[], byte[]> producer = broker.producer()) {
                List<String> files = List.of("apple.jpg", "chelsea.png", "truncated.jpg", "no-such-file.jpg");
                for (String file : files) {
                    producer.send(new ProducerRecord<>("images", file.getBytes(StandardCharsets.UTF_8),
                            codec.encode(InferenceRequest.of(file, images.resolve(file).toUri().toString())))).get();
                }
                assertEquals(files.size(), broker.readAll("predictions", files.size(), Duration.ofSeconds(90)).size());
                exported = sampleNames(scrape(worker.metricsPort()));
            }
        }
        Set<String> missing = new TreeSet<>(queried);
        missing.removeAll(exported);
        assertTrue(missing.isEmpty(), "the dashboard queries series no worker exports: " + missing + "\nexported: " + exported);
    }

    /** Every PromQL text in the dashboard: panel targets and query variables. */
    static List<String> expressions(JsonNode dashboard) {
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                exprs.add(target.get("expr").asText());
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (variable.get("type").asText().equals("query")) {
                exprs.add(promql(variable.get("definition").asText()));
            }
        }
        return exprs;
    }

    /** The PromQL inside Grafana's {@code label_values(selector, label)}; other text as it is. */
    static String promql(String query) {
        Matcher m = Pattern.compile("^\\s*label_values\\((.*),\\s*\\w+\\s*\\)\\s*$").matcher(query);
        return m.matches() ? m.group(1) : query;
    }

    /**
     * The metric names a PromQL expression reads: identifiers outside strings, label matchers, ranges and
     * grouping clauses that are neither functions, aggregations (followed by a parenthesis) nor keywords.
     */
    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^\\]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = NAME.matcher(s);
        while (m.find()) {
            char before = m.start() > 0 ? s.charAt(m.start() - 1) : ' ';
            if (Character.isLetterOrDigit(before) || before == '.' || before == '$') {
                continue;  // the exponent of a number, or a Grafana variable
            }
            String rest = s.substring(m.end()).stripLeading();
            if (rest.startsWith("(") || KEYWORDS.contains(m.group().toLowerCase(java.util.Locale.ROOT))) {
                continue;
            }
            names.add(m.group());
        }
        return names;
    }

    /** Sample names in a Prometheus text exposition ({@code name{labels} value}). */
    static Set<String> sampleNames(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
            names.add(line.substring(0, end));
        }
        return names;
    }

    private static String scrape(int port) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }
}
