package io.inferencefleet.paddle.model;

import io.inferencefleet.paddle.model.synthetic.BuiltModel;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParamsFileTest {

    @TempDir
    Path dir;

    private BuiltModel built;
    private ModelFiles files;
    private ModelInfo model;

    @BeforeEach
    void writeTinyModel() throws IOException {
        built = BuiltinModels.build(BuiltinModels.TINY, 5);
        files = built.writeTo(dir, "tiny");
        model = ModelReader.read(files.modelFile());
    }

    @Test
    void roundTripsEveryParameter() {
        ParamsFile.validate(files.paramsFile(), model);
        Map<String, float[]> read = ParamsFile.read(files.paramsFile(), model);
        assertEquals(built.parameters().size(), read.size());
        for (FloatTensor t : built.parameters()) {
            assertArrayEquals(t.data(), read.get(t.name()), t.name());
        }
        assertEquals(model.parameters().stream().map(TensorSpec::name).toList(), List.copyOf(read.keySet()));
    }

    @Test
    void writesLayoutByteForByte() throws IOException {
        Path f = dir.resolve("one.pdiparams");
        ParamsFile.write(f, List.of(new FloatTensor("w", new long[] {2}, new float[] {1.0f, -2.0f})));
        byte[] desc = ParamsFile.tensorDesc(
                io.inferencefleet.paddle.model.proto.FrameworkProto.VarType.Type.FP32, new long[] {2}).toByteArray();
        byte[] bytes = Files.readAllBytes(f);
        assertEquals(20 + desc.length + 8, bytes.length);
        assertArrayEquals(new byte[16], Arrays.copyOfRange(bytes, 0, 16));       // versions and LoD count
        assertEquals(desc.length, bytes[16]);
        assertArrayEquals(desc, Arrays.copyOfRange(bytes, 20, 20 + desc.length));
        // 1.0f = 0x3F800000 little-endian
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3F}, Arrays.copyOfRange(bytes, 20 + desc.length, 24 + desc.length));
    }

    @Test
    void rejectsTruncatedFileNamingTheParameter() throws IOException {
        long size = Files.size(files.paramsFile());
        truncate(files.paramsFile(), size - 3);
        String last = model.parameters().get(model.parameters().size() - 1).name();
        String message = rejection();
        assertTrue(message.contains("'" + last + "'") && message.contains("truncated"), message);
    }

    @Test
    void rejectsFileCutInsideAHeader() throws IOException {
        truncate(files.paramsFile(), 10);
        String message = rejection();
        assertTrue(message.contains("'" + model.parameters().get(0).name() + "'") && message.contains("truncated"),
                message);
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        Files.write(files.paramsFile(), new byte[7], StandardOpenOption.APPEND);
        String message = rejection();
        assertTrue(message.contains("7 trailing bytes"), message);
    }

    @Test
    void rejectsEmptyFile() throws IOException {
        truncate(files.paramsFile(), 0);
        assertTrue(rejection().contains("truncated"));
    }

    @Test
    void rejectsParameterWithOtherDims() throws IOException {
        List<FloatTensor> changed = new ArrayList<>(built.parameters());
        FloatTensor first = changed.get(0);
        changed.set(0, new FloatTensor(first.name(), new long[] {first.data().length}, first.data()));
        ParamsFile.write(files.paramsFile(), changed);
        String message = rejection();
        assertTrue(message.contains("'" + first.name() + "'") && message.contains("model declares FP32"
                + Arrays.toString(first.dims())), message);
    }

    @Test
    void rejectsParamsOfAnotherModel() throws IOException {
        ModelFiles other = BuiltinModels.build(BuiltinModels.TINY, 5).writeTo(dir.resolve("other"), "m");
        assertDoesNotThrow(() -> ParamsFile.validate(other.paramsFile(), model));
        ParamsFile.write(files.paramsFile(), built.parameters().subList(1, built.parameters().size()));
        assertThrows(InvalidModelException.class, () -> ParamsFile.validate(files.paramsFile(), model));
    }

    @Test
    void writeRejectsDuplicateNames() {
        FloatTensor t = new FloatTensor("w", new long[] {1}, new float[] {1});
        assertThrows(IllegalArgumentException.class, () -> ParamsFile.write(dir.resolve("dup"), List.of(t, t)));
    }

    private String rejection() {
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> ParamsFile.validate(files.paramsFile(), model));
        assertTrue(e.getMessage().startsWith(files.paramsFile().toString()), e.getMessage());
        InvalidModelException fromRead = assertThrows(InvalidModelException.class,
                () -> ParamsFile.read(files.paramsFile(), model));
        assertEquals(e.getMessage(), fromRead.getMessage());
        return e.getMessage();
    }

    private static void truncate(Path f, long size) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }
}
