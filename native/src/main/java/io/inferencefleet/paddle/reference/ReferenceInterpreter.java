package io.inferencefleet.paddle.reference;

import io.inferencefleet.paddle.model.ModelInfo;
import io.inferencefleet.paddle.model.TensorSpec;
import io.inferencefleet.paddle.model.proto.FrameworkProto.OpDesc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An independent, slow, float64 forward pass over a Paddle inference program: the oracle that
 * Paddle's FP32 results are checked against. It executes block 0's ops in program order and knows
 * only the ops image classifiers of the ResNet family use; anything else fails with
 * {@link UnsupportedOperationException} naming the op.
 *
 * <pre>{@code
 * ModelInfo model = ModelReader.read(files.modelFile());
 * Map<String, float[]> params = ParamsFile.read(files.paramsFile(), model);
 * DoubleTensor probs = new ReferenceInterpreter().run(model, params, image, new int[] {1, 3, 224, 224});
 * }</pre>
 *
 * <p>Stateless and thread-safe; single-threaded per call.
 */
public final class ReferenceInterpreter {

    /**
     * Runs a single-input model and returns its first output ({@code fetch} col 0).
     *
     * @param input      NCHW (or whatever the feed declares) values, batch included
     * @param inputShape the shape of {@code input}; must match the feed's declared static dims
     */
    public DoubleTensor run(ModelInfo model, Map<String, float[]> params, float[] input, int[] inputShape) {
        if (model.feeds().size() != 1) {
            throw new IllegalArgumentException("model has " + model.feeds().size() + " inputs; use runAll");
        }
        String feed = model.feeds().get(0).name();
        return runAll(model, params, Map.of(feed, DoubleTensor.of(input, inputShape))).get(0);
    }

    /** Runs the model on named inputs and returns every output, in {@code fetch} col order. */
    public List<DoubleTensor> runAll(ModelInfo model, Map<String, float[]> params, Map<String, DoubleTensor> inputs) {
        List<OpDesc> ops = model.program().getBlocks(0).getOpsList();
        Map<String, DoubleTensor> values = new HashMap<>();
        for (TensorSpec p : model.parameters()) {
            float[] v = params.get(p.name());
            if (v == null) {
                throw new IllegalArgumentException("missing parameter " + p.name());
            }
            values.put(p.name(), DoubleTensor.of(v, toInts(p.dims())));
        }
        Map<String, Integer> lastUse = lastUses(ops);
        Map<Integer, DoubleTensor> fetched = new HashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            OpDesc op = ops.get(i);
            execute(op, new OpAttributes(op), model, inputs, values, fetched);
            // Intermediates of a large model in float64 would otherwise pile up to gigabytes.
            for (String in : inputsOf(op)) {
                if (lastUse.get(in) == i && !params.containsKey(in)) {
                    values.remove(in);
                }
            }
        }
        List<DoubleTensor> outputs = new ArrayList<>();
        for (int col = 0; col < model.fetches().size(); col++) {
            outputs.add(fetched.get(col));
        }
        return outputs;
    }

    private static void execute(OpDesc op, OpAttributes a, ModelInfo model, Map<String, DoubleTensor> inputs,
                                Map<String, DoubleTensor> v, Map<Integer, DoubleTensor> fetched) {
        switch (op.getType()) {
            case "feed" -> {
                String target = a.output("Out");
                DoubleTensor x = inputs.get(target);
                if (x == null) {
                    throw new IllegalArgumentException("no value given for input " + target);
                }
                checkFeedShape(model.feeds().get(a.getInt("col", 0)), x);
                v.put(target, x);
            }
            case "fetch" -> fetched.put(a.getInt("col", 0), get(v, a.input("X")));
            case "conv2d" -> {
                requireExplicitPadding(op, a);
                if (!a.getString("data_format", "NCHW").equals("NCHW")) {
                    throw new UnsupportedOperationException("conv2d: only NCHW is supported");
                }
                v.put(a.output("Output"), Conv2d.apply(get(v, a.input("Input")), get(v, a.input("Filter")),
                        a.getInts("strides", 1, 1), a.getPaddings4(), a.getInts("dilations", 1, 1),
                        a.getInt("groups", 1)));
            }
            case "batch_norm" -> v.put(a.output("Y"), Elementwise.batchNorm(get(v, a.input("X")),
                    get(v, a.input("Scale")), get(v, a.input("Bias")), get(v, a.input("Mean")),
                    get(v, a.input("Variance")), a.getFloat("epsilon", 1e-5f)));
            case "relu" -> v.put(a.output("Out"), Elementwise.relu(get(v, a.input("X"))));
            case "pool2d" -> v.put(a.output("Out"), pool(op, a, get(v, a.input("X"))));
            case "elementwise_add" -> v.put(a.output("Out"),
                    Elementwise.add(get(v, a.input("X")), get(v, a.input("Y")), a.getInt("axis", -1)));
            case "flatten_contiguous_range" -> v.put(a.output("Out"),
                    Reshaping.flatten(get(v, a.input("X")), a.getInt("start_axis", 1), a.getInt("stop_axis", 1)));
            case "matmul_v2" -> v.put(a.output("Out"), Reshaping.matmul(get(v, a.input("X")), get(v, a.input("Y")),
                    a.getBool("trans_x", false), a.getBool("trans_y", false)));
            case "softmax" -> v.put(a.output("Out"), Reshaping.softmax(get(v, a.input("X")), a.getInt("axis", -1)));
            default -> throw new UnsupportedOperationException("reference interpreter does not implement op '"
                    + op.getType() + "'");
        }
    }

    private static DoubleTensor pool(OpDesc op, OpAttributes a, DoubleTensor x) {
        requireExplicitPadding(op, a);
        if (a.getBool("ceil_mode", false) || !a.getString("data_format", "NCHW").equals("NCHW")) {
            throw new UnsupportedOperationException("pool2d: ceil_mode and non-NCHW layouts are not supported");
        }
        String type = a.getString("pooling_type", "");
        if (!type.equals("max") && !type.equals("avg")) {
            throw new UnsupportedOperationException("pool2d: pooling_type '" + type + "' is not supported");
        }
        int[] ksize = a.getInts("ksize");
        boolean global = a.getBool("global_pooling", false);
        boolean adaptive = a.getBool("adaptive", false);
        if (adaptive && !Arrays.equals(ksize, new int[] {1, 1})) {
            throw new UnsupportedOperationException("pool2d: adaptive pooling is only supported to 1x1");
        }
        if (global || adaptive) {
            return Pool2d.apply(x, type.equals("max"), new int[] {x.dim(2), x.dim(3)}, new int[] {1, 1},
                    new int[4], true);
        }
        return Pool2d.apply(x, type.equals("max"), ksize, a.getInts("strides", 1, 1), a.getPaddings4(),
                a.getBool("exclusive", true));
    }

    private static void requireExplicitPadding(OpDesc op, OpAttributes a) {
        String algorithm = a.getString("padding_algorithm", "EXPLICIT");
        if (!algorithm.equals("EXPLICIT")) {
            throw new UnsupportedOperationException(op.getType() + ": padding_algorithm " + algorithm
                    + " is not supported");
        }
    }

    private static void checkFeedShape(TensorSpec spec, DoubleTensor x) {
        boolean ok = spec.rank() == x.rank();
        for (int d = 0; ok && d < x.rank(); d++) {
            ok = spec.dim(d) < 0 || spec.dim(d) == x.dim(d);
        }
        if (!ok) {
            throw new IllegalArgumentException("input " + spec.name() + " has shape " + Arrays.toString(x.shape())
                    + ", the model declares " + Arrays.toString(spec.dims()));
        }
    }

    private static DoubleTensor get(Map<String, DoubleTensor> values, String name) {
        DoubleTensor t = values.get(name);
        if (t == null) {
            throw new IllegalStateException("variable " + name + " is read before any op wrote it");
        }
        return t;
    }

    private static Map<String, Integer> lastUses(List<OpDesc> ops) {
        Map<String, Integer> last = new HashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            for (String in : inputsOf(ops.get(i))) {
                last.put(in, i);
            }
        }
        return last;
    }

    private static List<String> inputsOf(OpDesc op) {
        List<String> names = new ArrayList<>();
        op.getInputsList().forEach(slot -> names.addAll(slot.getArgumentsList()));
        return names;
    }

    private static int[] toInts(long[] dims) {
        return Arrays.stream(dims).mapToInt(Math::toIntExact).toArray();
    }
}
