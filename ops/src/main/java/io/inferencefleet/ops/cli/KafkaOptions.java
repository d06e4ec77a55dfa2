package io.inferencefleet.ops.cli;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The Kafka connection options shared by the commands that talk to Kafka (a picocli mixin). */
final class KafkaOptions {
    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]", defaultValue = "localhost:9092",
            description = "Kafka brokers (default: ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = {"-X", "--kafka"}, paramLabel = "KEY=VALUE",
            description = "Kafka client setting passed through as is (security.protocol, sasl.*, ssl.*, ...); repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    /** The settings for the Kafka clients; an explicit {@code -X bootstrap.servers=...} wins. */
    Map<String, Object> config() {
        Map<String, Object> config = new HashMap<>();
        config.put("bootstrap.servers", bootstrapServers);
        config.putAll(settings);
        return config;
    }
}
