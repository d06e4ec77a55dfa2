package io.inferencefleet.benchmarks.report;

import io.inferencefleet.worker.config.ThreadPlan;
import io.inferencefleet.worker.config.WorkerConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The settings of the report's Pareto sweep: the product of the chosen dimensions' values, each
 * setting a map of worker keys to override; the keys of dimensions not swept stay at the worker's
 * defaults ("auto"). The empty map is {@code auto} itself, first and last so drift over the sweep shows.
 *
 * <p>Example: {@code ParetoGrid.parse("engine,batch", 2).settings()} is auto, paddle B1, paddle B4,
 * ort B1, ort B4, auto.
 */
final class ParetoGrid {
    /** The sweep behind issue 12's "defaults from measurement": engine x batch x predictors x math threads. */
    static final String DEFAULT_DIMS = "engine,batch,predictors,math";
    /** The sweep of the reports before issue 12 (thread counts and pinning, on the default engine and batch). */
    static final String THREAD_DIMS = "predictors,math,decoders,pinning";

    /** One swept worker key, in label order. */
    enum Dim {
        ENGINE("engine", WorkerConfig.PREDICTOR_ENGINE.name()),
        BATCH("batch", WorkerConfig.BATCH_MAX.name()),
        PREDICTORS("predictors", WorkerConfig.PREDICTOR_THREADS.name()),
        MATH("math", WorkerConfig.MATH_THREADS.name()),
        DECODERS("decoders", WorkerConfig.DECODER_THREADS.name()),
        PINNING("pinning", WorkerConfig.PREDICTOR_PINNING.name());

        final String flag;
        final String key;

        Dim(String flag, String key) {
            this.flag = flag;
            this.key = key;
        }
    }

    /** Engines of the sweep: the two {@code auto} chooses between. */
    static final List<String> ENGINES = List.of("paddle", "onnxruntime");
    /** Batch sizes: off, and the largest the batch benchmark gained with (BatchSizeSuite: 1/2/4). */
    static final List<Integer> BATCHES = List.of(1, 4);

    private final List<Dim> dims;
    private final int cpus;
    private final int autoPredictors;

    private ParetoGrid(List<Dim> dims, int cpus, int autoPredictors) {
        this.dims = dims;
        this.cpus = cpus;
        this.autoPredictors = autoPredictors;
    }

    /**
     * @param dims comma-separated dimension names ({@link Dim#flag})
     * @param auto the plan {@code auto} gives on this node: thread counts go 1, 2, 4, ... up to its
     *     predictors x math threads (the node's CPUs)
     */
    static ParetoGrid parse(String dims, ThreadPlan auto) {
        List<Dim> chosen = new ArrayList<>();
        for (String name : dims.split(",")) {
            Dim dim = java.util.Arrays.stream(Dim.values()).filter(d -> d.flag.equals(name.trim().toLowerCase(Locale.ROOT)))
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("Invalid value '" + dims + "' for --pareto.dims: '"
                            + name.trim() + "' is not one of " + java.util.Arrays.stream(Dim.values()).map(d -> d.flag).toList()));
            if (chosen.contains(dim)) {
                throw new IllegalArgumentException("Invalid value '" + dims + "' for --pareto.dims: '" + dim.flag + "' twice");
            }
            chosen.add(dim);
        }
        chosen.sort(null);  // label and loop order are the enum's, whatever the flag's order
        return new ParetoGrid(List.copyOf(chosen), Math.max(1, auto.predictors() * auto.mathThreads()), auto.predictors());
    }

    List<Dim> dims() {
        return dims;
    }

    /** "engine x batch x predictors x math threads" */
    String title() {
        return String.join(" x ", dims.stream().map(d -> switch (d) {
            case ENGINE -> "engine";
            case BATCH -> "batch";
            case PREDICTORS -> "predictor threads";
            case MATH -> "math threads";
            case DECODERS -> "decoder threads";
            case PINNING -> "predictor pinning";
        }).toList());
    }

    /** auto, every combination (outermost dimension first), auto. */
    List<Map<String, String>> settings() {
        List<Map<String, String>> settings = new ArrayList<>();
        settings.add(Map.of());
        expand(0, new LinkedHashMap<>(), settings);
        settings.add(Map.of());
        return settings;
    }

    private void expand(int index, LinkedHashMap<String, String> partial, List<Map<String, String>> out) {
        if (index == dims.size()) {
            out.add(java.util.Collections.unmodifiableMap(new LinkedHashMap<>(partial)));
            return;
        }
        Dim dim = dims.get(index);
        for (String value : values(dim, partial)) {
            partial.put(dim.key, value);
            expand(index + 1, partial, out);
            partial.remove(dim.key);
        }
    }

    private List<String> values(Dim dim, Map<String, String> partial) {
        return switch (dim) {
            case ENGINE -> ENGINES;
            case BATCH -> BATCHES.stream().map(String::valueOf).toList();
            case PREDICTORS, MATH -> powersOfTwoUpTo(cpus);
            case DECODERS -> {
                int predictors = Integer.parseInt(partial.getOrDefault(Dim.PREDICTORS.key, Integer.toString(autoPredictors)));
                yield List.of(Integer.toString(predictors), Integer.toString(2 * predictors));
            }
            case PINNING -> List.of("node", "cpu");
        };
    }

    private static List<String> powersOfTwoUpTo(int max) {
        List<String> values = new ArrayList<>();
        for (int v = 1; v <= max; v *= 2) {
            values.add(Integer.toString(v));
        }
        return values;
    }

    /**
     * The overrides of this grid that name what {@code auto} resolved to: its engine (as the worker
     * reported it), batch size and thread plan. The sweep's setting with these overrides is auto's twin.
     */
    Map<String, String> resolvedAuto(String engine, int batchMax, ThreadPlan plan) {
        Map<String, String> resolved = new LinkedHashMap<>();
        for (Dim dim : dims) {
            resolved.put(dim.key, switch (dim) {
                case ENGINE -> engine;
                case BATCH -> Integer.toString(batchMax);
                case PREDICTORS -> Integer.toString(plan.predictors());
                case MATH -> Integer.toString(plan.mathThreads());
                case DECODERS -> Integer.toString(plan.decoders());
                case PINNING -> plan.pinning().name().toLowerCase(Locale.ROOT);
            });
        }
        return resolved;
    }

    /** "auto", or e.g. "ort B4 P2 M1" / "P2 M1 D4 pin": the swept keys in {@link Dim} order. */
    static String label(Map<String, String> overrides) {
        if (overrides.isEmpty()) {
            return "auto";
        }
        List<String> parts = new ArrayList<>();
        for (Dim dim : Dim.values()) {
            String v = overrides.get(dim.key);
            if (v == null) {
                continue;
            }
            switch (dim) {
                case ENGINE -> parts.add(shortEngine(v));
                case BATCH -> parts.add("B" + v);
                case PREDICTORS -> parts.add("P" + v);
                case MATH -> parts.add("M" + v);
                case DECODERS -> parts.add("D" + v);
                case PINNING -> {
                    if ("cpu".equals(v)) {
                        parts.add("pin");
                    }
                }
            }
        }
        return String.join(" ", parts);
    }

    static String shortEngine(String engine) {
        return "onnxruntime".equals(engine) ? "ort" : engine;
    }
}
