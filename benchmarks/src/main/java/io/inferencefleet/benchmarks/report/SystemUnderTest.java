package io.inferencefleet.benchmarks.report;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A Kafka inference worker the harness measures: a main class started as its own JVM (with the
 * project's {@code jvm.options}), told where to read and write by {@link Endpoints}.
 *
 * @param name short name in tables and plots
 * @param description what it is, for the report
 * @param mainClass the JVM's main class (in the benchmarks jar)
 * @param args its arguments for a given set of endpoints
 * @param env environment variables added to the child's
 */
public record SystemUnderTest(String name, String description, String mainClass, Function<Endpoints, List<String>> args,
                              Map<String, String> env) {

    /** Where one session's worker reads requests, writes results and finds its model and images. */
    public record Endpoints(String bootstrapServers, String inputTopic, String resultsTopic, String groupId, Path modelDir,
                            Path imagesDir, String workerId) {}
}
