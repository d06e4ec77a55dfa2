package io.inferencefleet.benchmarks.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The checker's bookkeeping, apart from Kafka: every request and every result it was given, and the
 * tally per request id. A result belongs to the request whose id it carries; a result whose id is
 * not a request id (the worker cannot read the id of a bad-JSON record and answers {@code
 * unknown@<partition>:<offset>}) belongs to the request whose record key it carries (the harness keys
 * every request by its id, and the worker copies the key). A request's answer is its earliest result
 * (record timestamp); every further result for the same request is a duplicate, attributed to the
 * latest disruption (kill) at or before its timestamp. Not thread-safe.
 *
 * <pre>{@code
 * ResultLedger ledger = new ResultLedger();
 * ledger.addRequest(key, value, partition, offset, timestamp);   // each record of the requests topic
 * ledger.addResult(key, value, partition, offset, timestamp);    // each record of the results topic
 * ResultLedger.Tally tally = ledger.tally(disruptions);
 * }</pre>
 */
final class ResultLedger {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A request as read from the requests topic. */
    record Request(String id, String kind, int partition, long offset, long timestampMs) {}

    /** A result as read from the results topic. */
    record Result(String id, String key, String status, String errorCode, String workerId, int sourcePartition,
                  long sourceOffset, long timestampMs, int partition, long offset) {}

    /** Something the harness did to the fleet at {@code atMs} (wall clock, as record timestamps). */
    record Disruption(String what, int number, long atMs, String target, long pid) {}

    /**
     * Duplicates attributed to one disruption (extra results, and how many request ids had them), and
     * the longest time without any new answer between the disruption and the next one (or the end);
     * NaN when no answer came in that time.
     */
    record Attributed(Disruption disruption, int duplicates, int ids, double longestGapSeconds) {}

    /** Everything the report says about one scenario's topics. */
    record Tally(int requests, Map<String, Integer> requestsByKind, int answered, List<String> lostIds, int duplicates,
                 int idsWithDuplicates, int duplicatesBeforeFirst, List<Attributed> perDisruption,
                 Map<String, Integer> answers, Map<String, Integer> unexpected, List<String> unexpectedExamples,
                 int unmatchedResults, List<String> unmatchedExamples, int inconsistentSources, long firstPublishMs,
                 long lastPublishMs, long lastResultMs, List<int[]> perBucket) {
        int lost() {
            return requests - answered;
        }

        /** Width of the {@link #perBucket} time series. */
        static final long BUCKET_MS = 5_000;

        /** From the last publish to the last result, in seconds (NaN without results). */
        double drainSeconds() {
            return lastResultMs <= 0 ? Double.NaN : (lastResultMs - lastPublishMs) / 1000.0;
        }
    }

    private final Map<String, Request> requests = new LinkedHashMap<>();
    private final List<Result> results = new ArrayList<>();

    /** A record of the requests topic. */
    void addRequest(byte[] keyBytes, byte[] value, int partition, long offset, long timestampMs) {
        String key = keyBytes == null ? null : new String(keyBytes, StandardCharsets.UTF_8);
        String id = key;
        try {
            JsonNode node = JSON.readTree(value);
            if (node != null && node.hasNonNull("id")) {
                id = node.get("id").asText();
            }
        } catch (IOException e) {
            // bad JSON (on purpose): its key is its id
        }
        if (id == null) {
            id = "nokey@" + partition + ":" + offset;
        }
        requests.putIfAbsent(id, new Request(id, kind(id), partition, offset, timestampMs));
    }

    /** A record of the results topic. */
    void addResult(byte[] keyBytes, byte[] value, int partition, long offset, long timestampMs) {
        String key = keyBytes == null ? null : new String(keyBytes, StandardCharsets.UTF_8);
        String id = null;
        String status = "UNPARSEABLE";
        String code = null;
        String worker = null;
        int sourcePartition = -1;
        long sourceOffset = -1;
        try {
            JsonNode node = JSON.readTree(value);
            id = text(node, "id");
            status = text(node, "status");
            JsonNode error = node.get("error");
            code = error == null || error.isNull() ? null : text(error, "code");
            worker = text(node, "workerId");
            JsonNode source = node.get("source");
            if (source != null && !source.isNull()) {
                sourcePartition = source.path("partition").asInt(-1);
                sourceOffset = source.path("offset").asLong(-1);
            }
        } catch (IOException e) {
            // counted as an unparseable result below
        }
        results.add(new Result(id, key, status, code, worker, sourcePartition, sourceOffset, timestampMs, partition, offset));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    static String kind(String id) {
        for (String kind : List.of(LoadPublisher.BAD_JSON, LoadPublisher.MISSING, LoadPublisher.TRUNCATED)) {
            if (id.endsWith("-" + kind)) {
                return kind;
            }
        }
        return "photo";
    }

    /** The status and error code a request of this kind must get. */
    static String expected(String kind) {
        return switch (kind) {
            case LoadPublisher.BAD_JSON -> "ERROR bad_request";
            case LoadPublisher.MISSING -> "ERROR not_found";
            case LoadPublisher.TRUNCATED -> "ERROR truncated_image";
            default -> "OK";
        };
    }

    private String requestOf(Result r) {
        if (r.id() != null && requests.containsKey(r.id())) {
            return r.id();
        }
        return r.key() != null && requests.containsKey(r.key()) ? r.key() : null;
    }

    int requests() {
        return requests.size();
    }

    int results() {
        return results.size();
    }

    /** Requests with at least one result. */
    int answered() {
        Set<String> answered = new HashSet<>();
        for (Result r : results) {
            String id = requestOf(r);
            if (id != null) {
                answered.add(id);
            }
        }
        return answered.size();
    }

    /** The answer (earliest result) times of the requests whose id starts with {@code prefix}, ascending. */
    List<Long> answerTimes(String prefix) {
        Map<String, Long> first = new HashMap<>();
        for (Result r : results) {
            String id = requestOf(r);
            if (id != null && id.startsWith(prefix)) {
                first.merge(id, r.timestampMs(), Math::min);
            }
        }
        return first.values().stream().sorted().toList();
    }

    /** True once some request published after {@code publishedAfterMs} has a result. */
    boolean answeredPublishedAfter(long publishedAfterMs) {
        for (int i = results.size() - 1; i >= 0; i--) {
            String id = requestOf(results.get(i));
            if (id != null && requests.get(id).timestampMs() > publishedAfterMs) {
                return true;
            }
        }
        return false;
    }

    /** Answers (first results) with a timestamp in [fromMs, toMs). */
    int answersBetween(long fromMs, long toMs) {
        Map<String, Long> first = new HashMap<>();
        for (Result r : results) {
            String id = requestOf(r);
            if (id != null) {
                first.merge(id, r.timestampMs(), Math::min);
            }
        }
        return (int) first.values().stream().filter(t -> t >= fromMs && t < toMs).count();
    }

    /** The earliest answer (first result) to a request published after {@code publishedAfterMs}, or -1. */
    long firstAnswerPublishedAfter(long publishedAfterMs) {
        long earliest = -1;
        for (Result r : results) {
            String id = requestOf(r);
            if (id != null && requests.get(id).timestampMs() > publishedAfterMs && (earliest < 0 || r.timestampMs() < earliest)) {
                earliest = r.timestampMs();
            }
        }
        return earliest;
    }

    /**
     * When the last of the requests published before {@code publishedBeforeMs} got its answer (its
     * earliest result's timestamp), or -1 while one of them has none.
     */
    long allAnsweredPublishedBefore(long publishedBeforeMs) {
        Map<String, Long> first = new HashMap<>();
        for (Result r : results) {
            String id = requestOf(r);
            if (id != null) {
                first.merge(id, r.timestampMs(), Math::min);
            }
        }
        long last = 0;
        for (Request q : requests.values()) {
            if (q.timestampMs() < publishedBeforeMs) {
                Long answer = first.get(q.id());
                if (answer == null) {
                    return -1;
                }
                last = Math.max(last, answer);
            }
        }
        return last;
    }

    Tally tally(List<Disruption> disruptions) {
        Map<String, List<Result>> byRequest = new HashMap<>();
        int unmatched = 0;
        List<String> unmatchedExamples = new ArrayList<>();
        int inconsistent = 0;
        long lastResult = 0;
        for (Result r : results) {
            lastResult = Math.max(lastResult, r.timestampMs());
            String id = requestOf(r);
            if (id == null) {
                unmatched++;
                if (unmatchedExamples.size() < 5) {
                    unmatchedExamples.add("id=" + r.id() + " key=" + r.key() + " status=" + r.status());
                }
                continue;
            }
            Request q = requests.get(id);
            if (r.sourcePartition() != q.partition() || r.sourceOffset() != q.offset()) {
                inconsistent++;
            }
            byRequest.computeIfAbsent(id, k -> new ArrayList<>()).add(r);
        }
        Map<String, Integer> byKind = new TreeMap<>();
        Map<String, Integer> answers = new TreeMap<>();
        Map<String, Integer> unexpected = new TreeMap<>();
        List<String> unexpectedExamples = new ArrayList<>();
        List<String> lost = new ArrayList<>();
        List<Disruption> sorted = disruptions.stream().sorted(Comparator.comparingLong(Disruption::atMs)).toList();
        int[] dups = new int[sorted.size()];
        List<Set<String>> dupIds = new ArrayList<>();
        sorted.forEach(d -> dupIds.add(new HashSet<>()));
        int duplicates = 0;
        int idsWithDuplicates = 0;
        int beforeFirst = 0;
        long firstPublish = Long.MAX_VALUE;
        long lastPublish = 0;
        for (Request q : requests.values()) {
            byKind.merge(q.kind(), 1, Integer::sum);
            firstPublish = Math.min(firstPublish, q.timestampMs());
            lastPublish = Math.max(lastPublish, q.timestampMs());
            List<Result> rs = byRequest.get(q.id());
            if (rs == null) {
                lost.add(q.id());
                continue;
            }
            rs.sort(Comparator.comparingLong(Result::timestampMs).thenComparingInt(Result::partition)
                    .thenComparingLong(Result::offset));
            Result answer = rs.get(0);
            String got = answer.status() + (answer.errorCode() == null ? "" : " " + answer.errorCode());
            answers.merge(answer.status(), 1, Integer::sum);
            String want = expected(q.kind());
            if (!got.equals(want)) {
                unexpected.merge(q.kind() + " -> " + got, 1, Integer::sum);
                if (unexpectedExamples.size() < 10) {
                    unexpectedExamples.add(q.id() + " -> " + got + " (worker " + answer.workerId() + ")");
                }
            }
            if (rs.size() > 1) {
                idsWithDuplicates++;
                duplicates += rs.size() - 1;
                for (Result dup : rs.subList(1, rs.size())) {
                    int k = latestBefore(sorted, dup.timestampMs());
                    if (k < 0) {
                        beforeFirst++;
                    } else {
                        dups[k]++;
                        dupIds.get(k).add(q.id());
                    }
                }
            }
        }
        long[] answerTimes = byRequest.values().stream().mapToLong(rs -> rs.get(0).timestampMs()).sorted().toArray();
        List<Attributed> perDisruption = new ArrayList<>();
        for (int k = 0; k < sorted.size(); k++) {
            long from = sorted.get(k).atMs();
            long to = k + 1 < sorted.size() ? sorted.get(k + 1).atMs() : Long.MAX_VALUE;
            long gap = longestGap(answerTimes, from, to);
            perDisruption.add(new Attributed(sorted.get(k), dups[k], dupIds.get(k).size(), gap < 0 ? Double.NaN : gap / 1000.0));
        }
        firstPublish = firstPublish == Long.MAX_VALUE ? 0 : firstPublish;
        return new Tally(requests.size(), byKind, requests.size() - lost.size(), lost, duplicates, idsWithDuplicates,
                beforeFirst, perDisruption, answers, unexpected, unexpectedExamples, unmatched, unmatchedExamples, inconsistent,
                firstPublish, lastPublish, lastResult, buckets(firstPublish, answerTimes));
    }

    /** Per {@link Tally#BUCKET_MS} from the first publish: {requests published, answers}. */
    private List<int[]> buckets(long firstPublishMs, long[] answerTimes) {
        List<int[]> buckets = new ArrayList<>();
        java.util.function.IntFunction<int[]> at = i -> {
            while (buckets.size() <= i) {
                buckets.add(new int[2]);
            }
            return buckets.get(i);
        };
        for (Request q : requests.values()) {
            at.apply((int) Math.max(0, (q.timestampMs() - firstPublishMs) / Tally.BUCKET_MS))[0]++;
        }
        for (long t : answerTimes) {
            at.apply((int) Math.max(0, (t - firstPublishMs) / Tally.BUCKET_MS))[1]++;
        }
        return buckets;
    }

    /** The longest stretch in [from, to) without an answer, counted from {@code from}; -1 without answers there. */
    static long longestGap(long[] sortedTimes, long from, long to) {
        long previous = from;
        long longest = -1;
        for (long t : sortedTimes) {
            if (t < from) {
                continue;
            }
            if (t >= to) {
                break;
            }
            longest = Math.max(longest, t - previous);
            previous = t;
        }
        return longest;
    }

    private static int latestBefore(List<Disruption> sorted, long ms) {
        int k = -1;
        for (int i = 0; i < sorted.size() && sorted.get(i).atMs() <= ms; i++) {
            k = i;
        }
        return k;
    }
}
