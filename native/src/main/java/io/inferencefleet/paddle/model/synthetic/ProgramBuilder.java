package io.inferencefleet.paddle.model.synthetic;

import io.inferencefleet.paddle.model.FloatTensor;
import io.inferencefleet.paddle.model.proto.FrameworkProto.BlockDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.ProgramDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;
import io.inferencefleet.paddle.model.proto.FrameworkProto.Version;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a Paddle inference program (NCHW, FP32, dynamic batch) layer by layer, together with its
 * parameter values. Each layer method takes the name of its input variable and returns the name of
 * its output, so a network reads like a forward pass:
 *
 * <pre>{@code
 * ProgramBuilder b = new ProgramBuilder(SyntheticWeights.seeded(42));
 * String x = b.input("x", 3, 224, 224);
 * x = b.relu(b.batchNorm(b.conv2d(x, 16, 3, 2, 1)));
 * x = b.softmax(b.fc(b.flatten(b.globalAvgPool(x)), 10));
 * b.output(x);
 * BuiltModel model = b.build();
 * }</pre>
 *
 * <p>Attributes are the ones Paddle's exporter writes for these layers. Several are not optional in
 * practice even where Paddle has defaults: without conv {@code strides/dilations/groups/data_format},
 * batch-norm {@code epsilon} or elementwise_add {@code axis}, Paddle's IR passes silently skip the
 * conv+bn and fc fusions; {@code pool2d.pooling_type/ksize} and {@code matmul_v2.trans_x/trans_y}
 * have no usable default at all.
 */
public final class ProgramBuilder {
    /** ProgramDesc version as Paddle 2.3.2 writes it (major * 10^6 + minor * 10^3 + patch). */
    static final long PROGRAM_VERSION = 2_003_002L;

    private static final String FEED_HOLDER = "feed";
    private static final String FETCH_HOLDER = "fetch";
    private static final float BN_EPSILON = 1e-5f;
    private static final float BN_MOMENTUM = 0.9f;

    private final WeightInitializer weights;
    private final BlockDesc.Builder block = BlockDesc.newBuilder().setIdx(0).setParentIdx(-1);
    private final Map<String, long[]> dims = new HashMap<>();
    private final Map<String, Integer> layerCounters = new HashMap<>();
    private final List<FloatTensor> parameters = new ArrayList<>();
    private int feedCount;
    private int fetchCount;

    public ProgramBuilder(WeightInitializer weights) {
        this.weights = weights;
        block.addVars(holderVar(FEED_HOLDER, VarType.Type.FEED_MINIBATCH));
        block.addVars(holderVar(FETCH_HOLDER, VarType.Type.FETCH_LIST));
    }

    /** Declares an input of shape {@code [-1, chw...]} fed by a {@code feed} op. */
    public String input(String name, long... perSampleDims) {
        // need_check_feed makes Paddle verify the fed tensor against these dims, as exported models do.
        declare(name, withBatch(perSampleDims), false, true);
        block.addOps(new OpBuilder("feed").in("X", FEED_HOLDER).out("Out", name).attr("col", feedCount++).build());
        return name;
    }

    /** Marks {@code x} as the next program output ({@code fetch} op). */
    public void output(String x) {
        requireVar(x);
        block.addOps(new OpBuilder("fetch").in("X", x).out("Out", FETCH_HOLDER).attr("col", fetchCount++).build());
    }

    /** Square-kernel conv without bias, dilation 1, one group. */
    public String conv2d(String x, int outChannels, int kernel, int stride, int padding) {
        return conv2d(x, outChannels, kernel, stride, padding, 1, 1);
    }

    public String conv2d(String x, int outChannels, int kernel, int stride, int padding, int dilation, int groups) {
        long[] in = requireRank(x, 4);
        if (in[1] % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("channels " + in[1] + "->" + outChannels + " not divisible by groups "
                    + groups);
        }
        String layer = nextLayer("conv2d");
        int fanIn = (int) (in[1] / groups) * kernel * kernel;
        String filter = parameter(layer + ".w_0", ParamRole.CONV_WEIGHT, fanIn,
                outChannels, in[1] / groups, kernel, kernel);
        long oh = convOut(in[2], kernel, stride, padding, dilation);
        long ow = convOut(in[3], kernel, stride, padding, dilation);
        String out = temp(layer, 0, in[0], outChannels, oh, ow);
        block.addOps(new OpBuilder("conv2d").in("Input", x).in("Filter", filter).out("Output", out)
                .attr("strides", stride, stride).attr("paddings", padding, padding)
                .attr("dilations", dilation, dilation).attr("groups", groups)
                .attr("data_format", "NCHW").attr("padding_algorithm", "EXPLICIT").build());
        return out;
    }

    /** Inference-mode batch norm over channels of an NCHW tensor. */
    public String batchNorm(String x) {
        return batchNorm(x, false);
    }

    /**
     * @param endsResidualBranch tells the initialiser this scale feeds a residual addition
     */
    public String batchNorm(String x, boolean endsResidualBranch) {
        long[] in = requireRank(x, 4);
        String layer = nextLayer("batch_norm");
        long c = in[1];
        String scale = parameter(layer + ".w_0",
                endsResidualBranch ? ParamRole.BN_SCALE_RESIDUAL_END : ParamRole.BN_SCALE, 0, c);
        String bias = parameter(layer + ".b_0", ParamRole.BN_BIAS, 0, c);
        String mean = parameter(layer + ".w_1", ParamRole.BN_MEAN, 0, c);
        String variance = parameter(layer + ".w_2", ParamRole.BN_VARIANCE, 0, c);
        String y = temp(layer, 0, in);
        String savedMean = temp(layer, 1, c);
        String savedVariance = temp(layer, 2, c);
        // MeanOut/VarianceOut alias the running statistics, as Paddle's exporter writes them.
        block.addOps(new OpBuilder("batch_norm").in("X", x).in("Scale", scale).in("Bias", bias).in("Mean", mean)
                .in("Variance", variance).out("Y", y).out("MeanOut", mean).out("VarianceOut", variance)
                .out("SavedMean", savedMean).out("SavedVariance", savedVariance)
                .attr("epsilon", BN_EPSILON).attr("momentum", BN_MOMENTUM).attr("is_test", true)
                .attr("data_layout", "NCHW").attr("use_global_stats", false).attr("trainable_statistics", false)
                .build());
        return y;
    }

    public String relu(String x) {
        String out = temp(nextLayer("relu"), 0, requireVar(x));
        block.addOps(new OpBuilder("relu").in("X", x).out("Out", out).build());
        return out;
    }

    public String maxPool(String x, int kernel, int stride, int padding) {
        return pool(x, "max", kernel, stride, padding, false);
    }

    /** Average pooling that excludes padding from the divisor (Paddle's {@code exclusive=true}). */
    public String avgPool(String x, int kernel, int stride, int padding) {
        return pool(x, "avg", kernel, stride, padding, false);
    }

    /** Average over all of H and W, giving {@code [N, C, 1, 1]}. */
    public String globalAvgPool(String x) {
        return pool(x, "avg", 1, 1, 0, true);
    }

    /** Same-shape addition, e.g. a residual connection. */
    public String add(String x, String y) {
        long[] dx = requireVar(x);
        if (!Arrays.equals(dx, requireVar(y))) {
            throw new IllegalArgumentException("add needs equal shapes: " + Arrays.toString(dx) + " vs "
                    + Arrays.toString(dims.get(y)));
        }
        return elementwiseAdd(x, y, -1, dx);
    }

    /** {@code [N, C, H, W] -> [N, C*H*W]}. */
    public String flatten(String x) {
        long[] in = requireRank(x, 4);
        String layer = nextLayer("flatten");
        String out = temp(layer, 0, in[0], in[1] * in[2] * in[3]);
        // XShape carries the input shape behind a leading 0, which is how Paddle encodes it.
        String xShape = temp(layer, 1, 0, in[0], in[1], in[2], in[3]);
        block.addOps(new OpBuilder("flatten_contiguous_range").in("X", x).out("Out", out).out("XShape", xShape)
                .attr("start_axis", 1).attr("stop_axis", 3).build());
        return out;
    }

    /**
     * Fully connected layer as Paddle's {@code nn.Linear} exports it: {@code matmul_v2} with weight
     * {@code [in, out]} then {@code elementwise_add} of the bias with axis 1, the pattern Paddle's fc
     * fusion recognises.
     */
    public String fc(String x, int outFeatures) {
        long[] in = requireRank(x, 2);
        String layer = nextLayer("linear");
        String w = parameter(layer + ".w_0", ParamRole.FC_WEIGHT, (int) in[1], in[1], outFeatures);
        String b = parameter(layer + ".b_0", ParamRole.FC_BIAS, 0, outFeatures);
        String product = temp(layer, 0, in[0], outFeatures);
        block.addOps(new OpBuilder("matmul_v2").in("X", x).in("Y", w).out("Out", product)
                .attr("trans_x", false).attr("trans_y", false).build());
        return elementwiseAdd(product, b, 1, dims.get(product));
    }

    /**
     * ShuffleNet's channel shuffle ({@code shuffle_channel}): the channels, seen as
     * {@code [groups, C/groups]}, are transposed. Paddle runs it; paddle2onnx 1.0.0rc2 (bundled with
     * Paddle Inference 2.3.2) has no converter for it, which makes it the way to build a model that
     * Paddle's ONNX Runtime backend cannot take.
     */
    public String shuffleChannel(String x, int groups) {
        long[] in = requireRank(x, 4);
        if (groups < 1 || in[1] % groups != 0) {
            throw new IllegalArgumentException("shuffleChannel needs groups dividing the " + in[1] + " channels, got "
                    + groups);
        }
        String out = temp(nextLayer("shuffle_channel"), 0, in);
        block.addOps(new OpBuilder("shuffle_channel").in("X", x).out("Out", out).attr("group", groups).build());
        return out;
    }

    /** Softmax over the last axis. */
    public String softmax(String x) {
        String out = temp(nextLayer("softmax"), 0, requireVar(x));
        block.addOps(new OpBuilder("softmax").in("X", x).out("Out", out).attr("axis", -1).build());
        return out;
    }

    /** The program and the parameter values created so far. */
    public BuiltModel build() {
        ProgramDesc program = ProgramDesc.newBuilder().addBlocks(block.build())
                .setVersion(Version.newBuilder().setVersion(PROGRAM_VERSION)).build();
        return new BuiltModel(program, parameters);
    }

    private String pool(String x, String type, int kernel, int stride, int padding, boolean global) {
        long[] in = requireRank(x, 4);
        long oh = global ? 1 : poolOut(in[2], kernel, stride, padding);
        long ow = global ? 1 : poolOut(in[3], kernel, stride, padding);
        String out = temp(nextLayer("pool2d"), 0, in[0], in[1], oh, ow);
        block.addOps(new OpBuilder("pool2d").in("X", x).out("Out", out)
                .attr("pooling_type", type).attr("ksize", kernel, kernel).attr("strides", stride, stride)
                .attr("paddings", padding, padding).attr("global_pooling", global).attr("ceil_mode", false)
                .attr("exclusive", true).attr("adaptive", false).attr("data_format", "NCHW")
                .attr("padding_algorithm", "EXPLICIT").build());
        return out;
    }

    private String elementwiseAdd(String x, String y, int axis, long[] outDims) {
        String out = temp(nextLayer("elementwise_add"), 0, outDims);
        block.addOps(new OpBuilder("elementwise_add").in("X", x).in("Y", y).out("Out", out)
                .attr("axis", axis).build());
        return out;
    }

    private String parameter(String name, ParamRole role, int fanIn, long... shape) {
        declare(name, shape, true, false);
        parameters.add(new FloatTensor(name, shape, weights.values(name, role, shape.clone(), fanIn)));
        return name;
    }

    private String temp(String layer, int index, long... shape) {
        String name = layer + ".tmp_" + index;
        declare(name, shape, false, false);
        return name;
    }

    private void declare(String name, long[] shape, boolean persistable, boolean needCheckFeed) {
        if (dims.putIfAbsent(name, shape.clone()) != null) {
            throw new IllegalArgumentException("variable " + name + " already declared");
        }
        VarType.TensorDesc.Builder desc = VarType.TensorDesc.newBuilder().setDataType(VarType.Type.FP32);
        Arrays.stream(shape).forEach(desc::addDims);
        block.addVars(VarDesc.newBuilder().setName(name).setPersistable(persistable).setNeedCheckFeed(needCheckFeed)
                .setType(VarType.newBuilder().setType(VarType.Type.LOD_TENSOR)
                        .setLodTensor(VarType.LoDTensorDesc.newBuilder().setTensor(desc))));
    }

    private static VarDesc holderVar(String name, VarType.Type type) {
        return VarDesc.newBuilder().setName(name).setPersistable(true).setType(VarType.newBuilder().setType(type))
                .build();
    }

    private String nextLayer(String kind) {
        int n = layerCounters.merge(kind, 1, Integer::sum) - 1;
        return kind + "_" + n;
    }

    private long[] requireVar(String x) {
        long[] d = dims.get(x);
        if (d == null) {
            throw new IllegalArgumentException("unknown variable " + x);
        }
        return d;
    }

    private long[] requireRank(String x, int rank) {
        long[] d = requireVar(x);
        if (d.length != rank) {
            throw new IllegalArgumentException(x + " has shape " + Arrays.toString(d) + ", expected rank " + rank);
        }
        return d;
    }

    private static long[] withBatch(long[] perSample) {
        long[] d = new long[perSample.length + 1];
        d[0] = -1;
        System.arraycopy(perSample, 0, d, 1, perSample.length);
        return d;
    }

    private static long convOut(long in, int kernel, int stride, int padding, int dilation) {
        return (in + 2L * padding - (long) dilation * (kernel - 1) - 1) / stride + 1;
    }

    private static long poolOut(long in, int kernel, int stride, int padding) {
        return (in + 2L * padding - kernel) / stride + 1;
    }
}
