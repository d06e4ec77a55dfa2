package io.inferencefleet.paddle.model.synthetic;

import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.ModelInfo;
import io.inferencefleet.paddle.model.ModelReader;
import io.inferencefleet.paddle.model.ParamsFile;
import io.inferencefleet.paddle.model.proto.FrameworkProto.AttrType;
import io.inferencefleet.paddle.model.proto.FrameworkProto.OpDesc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuiltinModelsTest {

    @TempDir
    Path dir;

    @Test
    void generatesAPaddleClasStyleDirectory() throws Exception {
        ModelFiles files = BuiltinModels.generate(BuiltinModels.TINY, dir, 3);
        assertEquals(files, ModelFiles.inDirectory(dir));
        ModelInfo model = ModelReader.read(files.modelFile());
        ParamsFile.validate(files.paramsFile(), model);

        String yml = Files.readString(files.inferenceConfig().orElseThrow());
        assertTrue(yml.startsWith("#") && yml.contains("synthetic"), yml);
        for (String expected : List.of("DecodeImage:", "to_rgb: true", "channel_first: false", "resize_short: 256",
                "size: 224", "scale: 1.0/255.0", "mean: [0.485, 0.456, 0.406]", "std: [0.229, 0.224, 0.225]",
                "order: ''", "ToCHWImage:", "Topk", "topk: 5")) {
            assertTrue(yml.contains(expected), "missing " + expected + " in\n" + yml);
        }
    }

    @Test
    void sameSeedGivesSameBytesAndOtherSeedOtherWeights() throws Exception {
        ModelFiles a = BuiltinModels.generate(BuiltinModels.TINY, dir.resolve("a"), 3);
        ModelFiles b = BuiltinModels.generate(BuiltinModels.TINY, dir.resolve("b"), 3);
        ModelFiles c = BuiltinModels.generate(BuiltinModels.TINY, dir.resolve("c"), 4);
        assertArrayEquals(Files.readAllBytes(a.modelFile()), Files.readAllBytes(b.modelFile()));
        assertArrayEquals(Files.readAllBytes(a.paramsFile()), Files.readAllBytes(b.paramsFile()));
        assertArrayEquals(Files.readAllBytes(a.modelFile()), Files.readAllBytes(c.modelFile()));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a.paramsFile()), Files.readAllBytes(c.paramsFile())));
    }

    @Test
    void rejectsUnknownName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BuiltinModels.generate("vgg", dir, 1));
        assertTrue(e.getMessage().contains("vgg") && e.getMessage().contains("resnet50"), e.getMessage());
    }

    /** The attributes FACTS.md found Paddle needs for loading and for its conv+bn and fc fusions. */
    @Test
    void opsCarryTheAttributesPaddleNeeds() {
        List<OpDesc> ops = BuiltinModels.build(BuiltinModels.TINY, 1).program().getBlocks(0).getOpsList();
        assertAttrs(ops, "feed", "col");
        assertAttrs(ops, "fetch", "col");
        assertAttrs(ops, "conv2d", "strides", "paddings", "dilations", "groups", "data_format", "padding_algorithm");
        assertAttrs(ops, "batch_norm", "epsilon", "momentum", "is_test", "data_layout", "use_global_stats",
                "trainable_statistics");
        assertAttrs(ops, "pool2d", "pooling_type", "ksize", "strides", "paddings", "global_pooling", "ceil_mode",
                "exclusive", "adaptive", "data_format", "padding_algorithm");
        assertAttrs(ops, "elementwise_add", "axis");
        assertAttrs(ops, "flatten_contiguous_range", "start_axis", "stop_axis");
        assertAttrs(ops, "matmul_v2", "trans_x", "trans_y");
        assertAttrs(ops, "softmax", "axis");
        OpDesc col = ops.get(0);
        assertEquals(AttrType.INT, col.getAttrs(0).getType());
    }

    @Test
    void batchNormStatisticsAreAliasedAndFcBiasUsesAxisOne() {
        List<OpDesc> ops = BuiltinModels.build(BuiltinModels.TINY, 1).program().getBlocks(0).getOpsList();
        OpDesc bn = ops.stream().filter(o -> o.getType().equals("batch_norm")).findFirst().orElseThrow();
        assertEquals(slot(bn.getInputsList(), "Mean"), slot(bn.getOutputsList(), "MeanOut"));
        assertEquals(slot(bn.getInputsList(), "Variance"), slot(bn.getOutputsList(), "VarianceOut"));
        OpDesc last = ops.stream().filter(o -> o.getType().equals("elementwise_add")).reduce((x, y) -> y).orElseThrow();
        int axis = last.getAttrsList().stream().filter(a -> a.getName().equals("axis")).findFirst().orElseThrow().getI();
        assertEquals(1, axis);
    }

    private static String slot(List<OpDesc.Var> slots, String name) {
        return slots.stream().filter(v -> v.getParameter().equals(name)).findFirst().orElseThrow().getArguments(0);
    }

    private static void assertAttrs(List<OpDesc> ops, String type, String... names) {
        List<OpDesc> ofType = ops.stream().filter(o -> o.getType().equals(type)).toList();
        assertFalse(ofType.isEmpty(), "no " + type + " op");
        for (OpDesc op : ofType) {
            Set<String> present = op.getAttrsList().stream().map(OpDesc.Attr::getName).collect(Collectors.toSet());
            for (String name : names) {
                assertTrue(present.contains(name), type + " lacks attribute " + name);
            }
        }
    }
}
