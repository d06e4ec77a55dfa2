package io.inferencefleet.paddle.model;

import io.inferencefleet.paddle.model.proto.FrameworkProto.AttrType;
import io.inferencefleet.paddle.model.proto.FrameworkProto.BlockDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.OpDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.ProgramDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;
import io.inferencefleet.paddle.model.proto.FrameworkProto.Version;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelReaderTest {

    @TempDir
    Path dir;

    @Test
    void readsTinyModelBack() throws Exception {
        ModelFiles files = BuiltinModels.build(BuiltinModels.TINY, 1).writeTo(dir, "tiny");
        ModelInfo model = ModelReader.read(files.modelFile());

        assertEquals(1, model.feeds().size());
        assertEquals("x", model.feeds().get(0).name());
        assertArrayEquals(new long[] {-1, 3, 224, 224}, model.feeds().get(0).dims());
        assertEquals(VarType.Type.FP32, model.feeds().get(0).dataType());
        assertArrayEquals(new long[] {-1, 10}, model.fetches().get(0).dims());
        assertEquals("feed", model.opTypes().get(0));
        assertEquals("fetch", model.opTypes().get(model.opTypes().size() - 1));
        assertEquals(4, model.opCounts().get("conv2d"));
        assertEquals(4, model.opCounts().get("batch_norm"));
        assertEquals(3, model.opCounts().get("pool2d"));
        assertEquals(2, model.opCounts().get("elementwise_add"));  // residual + fc bias
        List<String> names = model.parameters().stream().map(TensorSpec::name).toList();
        assertEquals(names.stream().sorted().toList(), names);
        // conv 8x3x3x3 + 2 x 8x8x3x3 + 16x8x3x3, bn scale+bias for 8+8+8+16 channels, fc 16x10 + 10
        assertEquals(216 + 2 * 576 + 1152 + 2 * 40 + 170, model.parameterCount());
        assertEquals(model.parameterCount() + 2 * 40, model.persistableElementCount());
    }

    @Test
    void ordersFeedsAndFetchesByCol() {
        ProgramDesc.Builder p = minimalProgram().toBuilder();
        BlockDesc.Builder b = p.getBlocksBuilder(0);
        b.addVars(tensorVar("y", -1, 2));
        // A second feed with col 0 inserted after the existing one (col 0 -> moved to col 1).
        b.setOps(0, b.getOps(0).toBuilder().setAttrs(0, intAttr("col", 1)));
        b.addOps(0, op("feed", "X", "feed", "Out", "y").addAttrs(intAttr("col", 0)));
        ModelInfo model = ModelReader.validate(p.build(), Path.of("two-inputs.pdmodel"));
        assertEquals(List.of("y", "x"), model.feeds().stream().map(TensorSpec::name).toList());
    }

    @Test
    void rejectsEmptyFile() throws Exception {
        Path f = Files.write(dir.resolve("empty.pdmodel"), new byte[0]);
        assertRejected(f, "empty");
    }

    @Test
    void rejectsMissingFile() {
        assertRejected(dir.resolve("missing.pdmodel"), "does not exist");
    }

    @Test
    void rejectsTextFile() throws Exception {
        Path f = Files.writeString(dir.resolve("text.pdmodel"), "this is a README, not a model\n",
                StandardCharsets.UTF_8);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelReader.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("ProgramDesc") || e.getMessage().contains("no blocks"), e.getMessage());
    }

    @Test
    void rejectsRandomBytes() throws Exception {
        Random random = new Random(3);
        for (int i = 0; i < 20; i++) {
            byte[] bytes = new byte[1 + random.nextInt(4096)];
            random.nextBytes(bytes);
            Path f = Files.write(dir.resolve("random" + i + ".pdmodel"), bytes);
            assertThrows(InvalidModelException.class, () -> ModelReader.read(f), "random file " + i);
        }
    }

    @Test
    void rejectsParsableProgramWithoutBlocks() throws Exception {
        byte[] bytes = ProgramDesc.newBuilder().setVersion(Version.newBuilder().setVersion(1)).build().toByteArray();
        Path f = Files.write(dir.resolve("noblocks.pdmodel"), bytes);
        assertRejected(f, "no blocks");
    }

    @Test
    void rejectsProgramWithoutFeedOrFetch() {
        assertInvalid(p -> removeOps(p, "feed"), "no 'feed' op");
        assertInvalid(p -> removeOps(p, "fetch"), "no 'fetch' op");
    }

    @Test
    void rejectsStructuralProblems() {
        assertInvalid(p -> p.setBlocks(0, p.getBlocks(0).toBuilder().setIdx(3)), "idx 3");
        assertInvalid(p -> {
            BlockDesc.Builder b = p.getBlocksBuilder(0);
            b.setOps(0, b.getOps(0).toBuilder().clearAttrs());
            return p;
        }, "no INT attribute 'col'");
        assertInvalid(p -> {
            BlockDesc.Builder b = p.getBlocksBuilder(0);
            b.addOps(1, op("relu", "X", "x", "Out", "ghost"));
            return p;
        }, "undeclared variable 'ghost'");
        assertInvalid(p -> {
            BlockDesc.Builder b = p.getBlocksBuilder(0);
            b.setVars(0, b.getVars(0).toBuilder().setType(VarType.newBuilder().setType(VarType.Type.FETCH_LIST)));
            return p;
        }, "expected FEED_MINIBATCH");
        assertInvalid(p -> {
            BlockDesc.Builder b = p.getBlocksBuilder(0);
            b.setVars(2, tensorVar("x"));
            return p;
        }, "declares no dims");
        assertInvalid(p -> {
            p.getBlocksBuilder(0).addVars(tensorVar("x", 1));
            return p;
        }, "declared twice");
    }

    @Test
    void rejectsOversizedFileWithoutReadingIt() throws Exception {
        Path f = dir.resolve("huge.pdmodel");
        try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(ModelReader.MAX_MODEL_BYTES + 1);   // sparse: no disk is used
        }
        assertRejected(f, "more than");
    }

    private void assertInvalid(UnaryOperator<ProgramDesc.Builder> corruption, String expected) {
        ProgramDesc corrupted = corruption.apply(minimalProgram().toBuilder()).build();
        Path source = Path.of("corrupted.pdmodel");
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> ModelReader.parse(corrupted.toByteArray(), source));
        assertTrue(e.getMessage().startsWith("corrupted.pdmodel: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private static void assertRejected(Path f, String expected) {
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelReader.read(f));
        assertEquals(f, e.file());
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private static ProgramDesc.Builder removeOps(ProgramDesc.Builder p, String type) {
        BlockDesc.Builder b = p.getBlocksBuilder(0);
        for (int i = b.getOpsCount() - 1; i >= 0; i--) {
            if (b.getOps(i).getType().equals(type)) {
                b.removeOps(i);
            }
        }
        return p;
    }

    /** feed -> relu -> fetch: the smallest program the validator accepts. */
    static ProgramDesc minimalProgram() {
        BlockDesc block = BlockDesc.newBuilder().setIdx(0).setParentIdx(-1)
                .addVars(VarDesc.newBuilder().setName("feed").setPersistable(true)
                        .setType(VarType.newBuilder().setType(VarType.Type.FEED_MINIBATCH)))
                .addVars(VarDesc.newBuilder().setName("fetch").setPersistable(true)
                        .setType(VarType.newBuilder().setType(VarType.Type.FETCH_LIST)))
                .addVars(tensorVar("x", -1, 4))
                .addVars(tensorVar("out", -1, 4))
                .addOps(op("feed", "X", "feed", "Out", "x").addAttrs(intAttr("col", 0)))
                .addOps(op("relu", "X", "x", "Out", "out"))
                .addOps(op("fetch", "X", "out", "Out", "fetch").addAttrs(intAttr("col", 0)))
                .build();
        return ProgramDesc.newBuilder().addBlocks(block).build();
    }

    static VarDesc tensorVar(String name, long... dims) {
        VarType.TensorDesc.Builder t = VarType.TensorDesc.newBuilder().setDataType(VarType.Type.FP32);
        for (long d : dims) {
            t.addDims(d);
        }
        return VarDesc.newBuilder().setName(name).setType(VarType.newBuilder().setType(VarType.Type.LOD_TENSOR)
                .setLodTensor(VarType.LoDTensorDesc.newBuilder().setTensor(t))).build();
    }

    static OpDesc.Builder op(String type, String inParam, String in, String outParam, String out) {
        return OpDesc.newBuilder().setType(type)
                .addInputs(OpDesc.Var.newBuilder().setParameter(inParam).addArguments(in))
                .addOutputs(OpDesc.Var.newBuilder().setParameter(outParam).addArguments(out));
    }

    static OpDesc.Attr intAttr(String name, int value) {
        return OpDesc.Attr.newBuilder().setName(name)
                .setType(AttrType.INT).setI(value).build();
    }
}
