package io.inferencefleet.ops.fleet;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@code fleet status} shows: per worker (from the state file, the process table and its
 * {@code /ready} and {@code /metrics}) and for the consumer group (from the Kafka Admin API:
 * members' assignments, committed offsets vs. end offsets of the input topic).
 *
 * @param requests results published by status ({@code fleet_requests_total}); null if not scraped
 * @param requestsPerSecond over the sampling window between two scrapes; null if either failed
 */
public record FleetStatus(long supervisorPid, boolean upRunning, String startedAt, String bootstrapServers, String groupId,
                          String inputTopic, List<Worker> workers, Group group) {

    public record Worker(String id, int node, String cpus, long pid, boolean alive, Boolean ready, String state,
                         int restarts, Map<String, Long> requests, Long inFlight, Double requestsPerSecond,
                         List<String> partitions, Long lag) {}

    /** The consumer group; {@code error} says why the rest is missing when Kafka could not be asked. */
    public record Group(String state, int members, int partitions, int assignedPartitions, Long totalLag, String error) {}

    private static final Pattern REQUESTS = Pattern.compile("^fleet_requests_total\\{([^}]*)}\\s+(\\S+)");
    private static final Pattern STATUS_LABEL = Pattern.compile("status=\"([^\"]*)\"");
    private static final Pattern IN_FLIGHT = Pattern.compile("^fleet_in_flight(?:\\{[^}]*})?\\s+(\\S+)");

    /**
     * Collects the status: scrapes every worker twice, {@code sample} apart, and asks Kafka about the
     * group. {@code kafka} holds extra Admin client settings (security); bootstrap comes from the state.
     */
    public static FleetStatus collect(FleetState state, Duration sample, Map<String, Object> kafka)
            throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        List<FleetState.Worker> workers = state.workers();
        List<Scrape> first = new ArrayList<>();
        long t0 = System.nanoTime();
        workers.forEach(w -> first.add(scrape(http, w)));
        Thread.sleep(sample.toMillis());
        List<Scrape> second = new ArrayList<>();
        long t1 = System.nanoTime();
        workers.forEach(w -> second.add(scrape(http, w)));
        double seconds = (t1 - t0) / 1e9;

        GroupView view = group(state, kafka);
        List<Worker> result = new ArrayList<>();
        for (int i = 0; i < workers.size(); i++) {
            FleetState.Worker w = workers.get(i);
            Scrape a = first.get(i);
            Scrape b = second.get(i);
            Double rate = a.requests == null || b.requests == null ? null
                    : (total(b.requests) - total(a.requests)) / seconds;
            boolean alive = w.pid() > 0 && ProcessHandle.of(w.pid()).map(ProcessHandle::isAlive).orElse(false);
            List<String> partitions = view.partitionsByClient.getOrDefault(w.id(), List.of());
            Long lag = view.error != null ? null
                    : partitions.stream().mapToLong(p -> view.lagByPartition.getOrDefault(p, 0L)).sum();
            result.add(new Worker(w.id(), w.node(), w.cpus(), w.pid(), alive, b.ready, w.state(), w.restarts(),
                    b.requests, b.inFlight, rate, partitions, lag));
        }
        return new FleetStatus(state.supervisorPid(), state.supervisorAlive(), state.startedAt(), state.bootstrapServers(),
                state.groupId(), state.inputTopic(), result, view.group);
    }

    private static long total(Map<String, Long> byStatus) {
        return byStatus.values().stream().mapToLong(Long::longValue).sum();
    }

    private record Scrape(Boolean ready, Map<String, Long> requests, Long inFlight) {}

    private static Scrape scrape(HttpClient http, FleetState.Worker w) {
        if (w.pid() <= 0) {
            return new Scrape(null, null, null);
        }
        Boolean ready = null;
        try {
            ready = get(http, w.metricsPort(), "/ready").statusCode() == 200;
            HttpResponse<String> metrics = get(http, w.metricsPort(), "/metrics");
            if (metrics.statusCode() != 200) {
                return new Scrape(ready, null, null);
            }
            Map<String, Long> requests = new TreeMap<>();
            Long inFlight = null;
            for (String line : metrics.body().split("\n")) {
                Matcher m = REQUESTS.matcher(line);
                if (m.find()) {
                    Matcher status = STATUS_LABEL.matcher(m.group(1));
                    String key = status.find() ? status.group(1) : "?";
                    requests.merge(key, (long) Double.parseDouble(m.group(2)), Long::sum);
                    continue;
                }
                Matcher f = IN_FLIGHT.matcher(line);
                if (f.find()) {
                    inFlight = (long) Double.parseDouble(f.group(1));
                }
            }
            return new Scrape(ready, requests, inFlight);
        } catch (IOException e) {
            return new Scrape(ready, null, null);  // not listening (yet): shown as "-"
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Scrape(ready, null, null);
        }
    }

    private static HttpResponse<String> get(HttpClient http, int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private record GroupView(Group group, Map<String, List<String>> partitionsByClient, Map<String, Long> lagByPartition,
                             String error) {}

    private static GroupView group(FleetState state, Map<String, Object> kafka) {
        Map<String, Object> config = new HashMap<>(kafka);
        config.putIfAbsent("bootstrap.servers", state.bootstrapServers());
        config.putIfAbsent("request.timeout.ms", 5_000);
        config.putIfAbsent("default.api.timeout.ms", 8_000);
        try (Admin admin = Admin.create(config)) {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(state.groupId()))
                    .describedGroups().get(state.groupId()).get(10, TimeUnit.SECONDS);
            Map<String, List<String>> byClient = new TreeMap<>();
            int assigned = 0;
            for (MemberDescription member : group.members()) {
                for (TopicPartition tp : member.assignment().topicPartitions()) {
                    byClient.computeIfAbsent(member.clientId(), k -> new ArrayList<>()).add(tp.toString());
                    assigned++;
                }
            }
            byClient.values().forEach(list -> list.sort(null));
            TopicDescription topic = admin.describeTopics(List.of(state.inputTopic())).topicNameValues()
                    .get(state.inputTopic()).get(10, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            topic.partitions().forEach(p -> {
                TopicPartition tp = new TopicPartition(state.inputTopic(), p.partition());
                latest.put(tp, OffsetSpec.latest());
                earliest.put(tp, OffsetSpec.earliest());
            });
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                    .get(10, TimeUnit.SECONDS);
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all()
                    .get(10, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(state.groupId())
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<String, Long> lag = new TreeMap<>();
            long total = 0;
            for (TopicPartition tp : latest.keySet()) {
                OffsetAndMetadata c = committed.get(tp);
                long from = c != null ? c.offset() : starts.get(tp).offset();
                long partitionLag = Math.max(0, ends.get(tp).offset() - from);
                lag.put(tp.toString(), partitionLag);
                total += partitionLag;
            }
            return new GroupView(new Group(group.groupState().toString(), group.members().size(), latest.size(), assigned,
                    total, null), byClient, lag, null);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
            String error = cause.getClass().getSimpleName() + ": " + cause.getMessage();
            return new GroupView(new Group(null, 0, 0, 0, null, error), Map.of(), Map.of(), error);
        }
    }
}
