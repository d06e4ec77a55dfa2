package io.inferencefleet.paddle.model;

import io.inferencefleet.paddle.model.proto.FrameworkProto.ProgramDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarDesc;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A validated Paddle inference program: what it takes, what it returns, what it computes and which
 * parameters it needs. Obtained from {@link ModelReader}; immutable.
 */
public final class ModelInfo {
    private final Path source;
    private final ProgramDesc program;
    private final List<TensorSpec> feeds;
    private final List<TensorSpec> fetches;
    private final List<String> opTypes;
    private final Map<String, Integer> opCounts;
    private final List<TensorSpec> parameters;
    private final Set<String> runningStatistics;
    private final Map<String, VarDesc> vars;

    ModelInfo(Path source, ProgramDesc program, List<TensorSpec> feeds, List<TensorSpec> fetches,
              List<TensorSpec> parameters, Set<String> runningStatistics, Map<String, VarDesc> vars) {
        this.source = source;
        this.program = program;
        this.feeds = List.copyOf(feeds);
        this.fetches = List.copyOf(fetches);
        this.parameters = List.copyOf(parameters);
        this.runningStatistics = Set.copyOf(runningStatistics);
        this.vars = Collections.unmodifiableMap(new LinkedHashMap<>(vars));
        this.opTypes = program.getBlocks(0).getOpsList().stream().map(op -> op.getType()).toList();
        Map<String, Integer> counts = new LinkedHashMap<>();
        opTypes.forEach(t -> counts.merge(t, 1, Integer::sum));
        this.opCounts = Collections.unmodifiableMap(counts);
    }

    /** The file this program was read from (used in error messages). */
    public Path source() {
        return source;
    }

    /** The underlying program, for callers that need more than this summary. */
    public ProgramDesc program() {
        return program;
    }

    /** Input tensors, ordered by the {@code col} attribute of their {@code feed} op. */
    public List<TensorSpec> feeds() {
        return feeds;
    }

    /** Output tensors, ordered by the {@code col} attribute of their {@code fetch} op. */
    public List<TensorSpec> fetches() {
        return fetches;
    }

    /** Op types of block 0 in program order, {@code feed} and {@code fetch} included. */
    public List<String> opTypes() {
        return opTypes;
    }

    /** Number of ops per type, in order of first appearance. */
    public Map<String, Integer> opCounts() {
        return opCounts;
    }

    /**
     * Persistable variables other than feed/fetch, sorted by name: exactly what the combined
     * params file holds, in its order.
     */
    public List<TensorSpec> parameters() {
        return parameters;
    }

    /** The declaration of a block-0 variable. */
    public Optional<VarDesc> var(String name) {
        return Optional.ofNullable(vars.get(name));
    }

    /**
     * Number of learnable parameters, counted the conventional way (as torchvision and PaddleClas
     * report model sizes): every persistable element except batch-norm running mean and variance,
     * which are statistics rather than parameters. ResNet-50 has 25,557,032.
     */
    public long parameterCount() {
        return parameters.stream().filter(p -> !runningStatistics.contains(p.name()))
                .mapToLong(TensorSpec::elementCount).sum();
    }

    /** Every element the params file holds, batch-norm running statistics included. */
    public long persistableElementCount() {
        return parameters.stream().mapToLong(TensorSpec::elementCount).sum();
    }

    @Override
    public String toString() {
        return "ModelInfo[" + source + ", feeds=" + feeds + ", fetches=" + fetches + ", ops=" + opTypes.size()
                + ", parameters=" + parameterCount() + "]";
    }
}
