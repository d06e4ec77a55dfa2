package io.inferencefleet.worker.config;

import java.util.Locale;
import java.util.Map;

/**
 * The Kafka client settings the worker owns, because the delivery guarantee rests on them: offsets
 * are committed by the worker only after the result is acknowledged ({@code enable.auto.commit}
 * false), results are written durably and without duplicates from retries ({@code acks=all},
 * idempotence on; with exactly-once, a {@code transactional.id} of the worker's own and input read
 * {@code read_committed}), the intake's back-pressure counts on its own {@code max.poll.records}, and the
 * worker reads and writes bytes. A {@code kafka.*} override of one of them is refused at start with
 * "Invalid value X for NAME: why" instead of silently weakening the guarantee.
 */
final class KafkaOverrides {
    private KafkaOverrides() {}

    /** @throws IllegalArgumentException naming the first override that would break the guarantee */
    static void check(Map<String, String> kafka, boolean exactlyOnce) {
        for (Map.Entry<String, String> e : kafka.entrySet()) {
            String why = refusal(clientKey(e.getKey()), e.getValue().trim().toLowerCase(Locale.ROOT), exactlyOnce);
            if (why != null) {
                throw new IllegalArgumentException("Invalid value " + Secrets.mask(e.getKey(), e.getValue()) + " for "
                        + e.getKey() + ": " + why);
            }
        }
    }

    private static String clientKey(String key) {
        for (String prefix : new String[] {WorkerConfig.KAFKA_CONSUMER, WorkerConfig.KAFKA_PRODUCER, WorkerConfig.KAFKA_BOTH}) {
            if (key.startsWith(prefix)) {
                return key.substring(prefix.length());
            }
        }
        return key;
    }

    private static String refusal(String key, String value, boolean exactlyOnce) {
        switch (key) {
            case "enable.auto.commit":
                return value.equals("false") ? null
                        : "the worker commits offsets itself, only after each result is acknowledged";
            case "acks":
                return value.equals("all") || value.equals("-1") ? null
                        : "results must be acknowledged by all in-sync replicas before their offsets are committed";
            case "enable.idempotence":
                return value.equals("true") ? null : "without idempotence a retried send can duplicate a result";
            case "max.poll.records":
                return "derived from max.in.flight (a quarter of it), which bounds the requests in flight";
            case "isolation.level":
                return !exactlyOnce || value.equals("read_committed") ? null
                        : "with delivery.guarantee=exactly-once requests are read read_committed";
            case "transactional.id":
                return "derived from group.id and worker.id (delivery.guarantee=exactly-once)";
            case "group.id":
                return "set group.id (not kafka.group.id): it is one of the worker's own keys";
            case "bootstrap.servers":
                return "set bootstrap.servers (not kafka.bootstrap.servers): it is one of the worker's own keys";
            case "key.serializer":
            case "value.serializer":
            case "key.deserializer":
            case "value.deserializer":
                return "the worker reads and writes raw bytes";
            default:
                return null;
        }
    }
}
