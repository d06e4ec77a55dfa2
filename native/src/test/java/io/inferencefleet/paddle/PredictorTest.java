package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.InvalidModelException;
import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.proto.FrameworkProto.ProgramDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarDesc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PredictorTest {
    private static final int[] ONE_IMAGE = {1, 3, 224, 224};

    @TempDir
    Path temp;

    private Path tiny;
    private Predictor predictor;

    @BeforeEach
    void createPredictor() throws IOException {
        tiny = TestModels.tiny();
        predictor = Predictor.create(TestModels.config(tiny).build());
    }

    @AfterEach
    void closePredictor() {
        predictor.close();
    }

    @Test
    void describesInputsAndOutputsAsTheProgramDeclaresThem() {
        assertEquals(1, predictor.inputs().size());
        assertArrayEquals(new long[] {-1, 3, 224, 224}, predictor.inputs().get(0).dims());
        assertEquals(1, predictor.outputs().size());
        assertArrayEquals(new long[] {-1, 10}, predictor.outputs().get(0).dims());
        assertTrue(Predictor.paddleVersion().contains("2.3.2"), Predictor.paddleVersion());
    }

    @Test
    void readsTheCallersMemoryInPlaceAndLeavesItUnchanged() {
        FloatBuffer input = randomImages(1, 1);
        float[] before = toArray(input);
        predictor.setInput(0, input, ONE_IMAGE);
        predictor.run();
        float[] first = new float[10];
        assertEquals(10, predictor.copyOutput(0, first));
        assertArrayEquals(new int[] {1, 10}, predictor.outputShape(0));
        assertArrayEquals(before, toArray(input), "Paddle must not write into the shared input");
        assertEquals(1.0, sum(first), 1e-5, "softmax output");

        // Same memory, new contents, no new setInput: Paddle reads the memory itself, not a copy.
        FloatBuffer other = randomImages(1, 2);
        for (int i = 0; i < other.capacity(); i++) {
            input.put(i, other.get(i));
        }
        predictor.run();
        float[] second = new float[10];
        predictor.copyOutput(0, second);
        assertFalse(java.util.Arrays.equals(first, second), "output follows the shared memory");
    }

    @Test
    void aBatchOfFourGivesTheSameAnswersAsFourSingleRuns() {
        FloatBuffer batch = randomImages(4, 3);
        predictor.setInput(0, batch, 4, 3, 224, 224);
        predictor.run();
        float[] batched = new float[40];
        assertEquals(40, predictor.copyOutput(0, batched));
        int imageFloats = 3 * 224 * 224;
        for (int i = 0; i < 4; i++) {
            FloatBuffer one = batch.duplicate().position(i * imageFloats).limit((i + 1) * imageFloats).slice();
            predictor.setInput(0, one, ONE_IMAGE);
            predictor.run();
            float[] single = new float[10];
            predictor.copyOutput(0, single);
            for (int k = 0; k < 10; k++) {
                assertEquals(single[k], batched[i * 10 + k], 1e-6, "image " + i + " class " + k);
            }
        }
    }

    @Test
    void clonesShareWeightsAndOutliveTheOriginal() {
        FloatBuffer input = randomImages(1, 4);
        float[] expected = runOnce(predictor, input);
        Predictor clone = predictor.cloneSharingWeights();
        try (clone) {
            assertArrayEquals(expected, runOnce(clone, input));
            predictor.close();
            assertArrayEquals(expected, runOnce(clone, input), "clone works after the original is closed");
        }
    }

    @Test
    void outputCopiesToNativeMemoryToo() {
        FloatBuffer input = randomImages(1, 5);
        float[] expected = runOnce(predictor, input);
        FloatBuffer out = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder()).asFloatBuffer();
        assertEquals(10, predictor.copyOutput(0, out));
        for (int k = 0; k < 10; k++) {
            assertEquals(expected[k], out.get(k));
        }
    }

    @Test
    void rejectsBadArgumentsAtTheEdgeWithMessagesThatNameTheProblem() {
        FloatBuffer input = randomImages(1, 6);
        IllegalArgumentException wrongChannels = assertThrows(IllegalArgumentException.class,
                () -> predictor.setInput(0, input, 1, 4, 224, 224));
        assertTrue(wrongChannels.getMessage().contains("dimension 1 is declared 3"), wrongChannels.getMessage());
        IllegalArgumentException wrongRank = assertThrows(IllegalArgumentException.class,
                () -> predictor.setInput(0, input, 3, 224, 224));
        assertTrue(wrongRank.getMessage().contains("rank 4"), wrongRank.getMessage());
        IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                () -> predictor.setInput(0, input, 2, 3, 224, 224));
        assertTrue(tooSmall.getMessage().contains("needs 1204224 bytes"), tooSmall.getMessage());
        assertThrows(IllegalArgumentException.class, () -> predictor.setInput(0, 0L, 1 << 20, ONE_IMAGE));
        assertThrows(IllegalArgumentException.class, () -> predictor.setInput(1, input, ONE_IMAGE));
        assertThrows(IllegalArgumentException.class,
                () -> predictor.setInput(0, FloatBuffer.allocate(3 * 224 * 224), ONE_IMAGE), "heap buffer");

        runOnce(predictor, input);
        IllegalArgumentException smallOutput = assertThrows(IllegalArgumentException.class,
                () -> predictor.copyOutput(0, new float[9]));
        assertTrue(smallOutput.getMessage().contains("has 10 floats, the destination holds 9"), smallOutput.getMessage());
    }

    @Test
    void paddlesOwnShapeErrorBecomesAnExceptionAndThePredictorStaysUsable() throws IOException {
        // Declare every input dimension dynamic so that only Paddle can notice 4 channels.
        ModelFiles files = TestModels.files(tiny);
        ProgramDesc program = ProgramDesc.parseFrom(Files.readAllBytes(files.modelFile()));
        ProgramDesc.Builder dynamic = program.toBuilder();
        var block = dynamic.getBlocksBuilder(0);
        for (VarDesc.Builder var : block.getVarsBuilderList()) {
            if (var.getName().equals("x")) {
                var.getTypeBuilder().getLodTensorBuilder().getTensorBuilder()
                        .clearDims().addDims(-1).addDims(-1).addDims(-1).addDims(-1);
            }
        }
        Path model = temp.resolve("dynamic.pdmodel");
        Files.write(model, dynamic.build().toByteArray());
        try (Predictor p = Predictor.create(PredictorConfig.builder(model, files.paramsFile()).build())) {
            FloatBuffer fourChannels = ByteBuffer.allocateDirect(4 * 224 * 224 * Float.BYTES)
                    .order(ByteOrder.nativeOrder()).asFloatBuffer();
            p.setInput(0, fourChannels, 1, 4, 224, 224);
            PaddleException e = assertThrows(PaddleException.class, p::run);
            assertTrue(e.getMessage().startsWith("running Paddle predictor: "), e.getMessage());
            assertTrue(e.getMessage().contains("channel"), "Paddle's own message: " + e.getMessage());
            p.setInput(0, randomImages(1, 7), ONE_IMAGE);
            p.run();
            float[] out = new float[10];
            p.copyOutput(0, out);
            assertEquals(1.0, sum(out), 1e-5, "the predictor still works after Paddle's error");
        }
    }

    @Test
    void useAfterCloseIsAnIllegalStateAndCloseIsIdempotent() {
        FloatBuffer input = randomImages(1, 8);
        predictor.close();
        assertDoesNotThrow(predictor::close);
        assertTrue(predictor.isClosed());
        assertThrows(IllegalStateException.class, predictor::run);
        assertThrows(IllegalStateException.class, () -> predictor.setInput(0, input, ONE_IMAGE));
        assertThrows(IllegalStateException.class, () -> predictor.copyOutput(0, new float[10]));
        assertThrows(IllegalStateException.class, () -> predictor.outputShape(0));
        assertThrows(IllegalStateException.class, predictor::cloneSharingWeights);
    }

    @Test
    void missingFilesAreNamed() {
        ModelFiles files = TestModels.files(tiny);
        Path missing = temp.resolve("nope.pdmodel");
        PaddleException noModel = assertThrows(PaddleException.class,
                () -> Predictor.create(PredictorConfig.builder(missing, files.paramsFile()).build()));
        assertTrue(noModel.getMessage().contains(missing.toString()), noModel.getMessage());
        Path missingParams = temp.resolve("nope.pdiparams");
        PaddleException noParams = assertThrows(PaddleException.class,
                () -> Predictor.create(PredictorConfig.builder(files.modelFile(), missingParams).build()));
        assertTrue(noParams.getMessage().contains(missingParams.toString()), noParams.getMessage());
    }

    @Test
    void emptyGarbageAndTextModelFilesAreRejectedBeforePaddleCanCrashOnThem() throws IOException {
        ModelFiles files = TestModels.files(tiny);
        byte[] garbage = new byte[4096];
        new SplittableRandom(1).nextBytes(garbage);
        byte[][] bad = {
            new byte[0],
            garbage,
            "name: resnet50\nlayers: [conv, bn, relu]\n".getBytes(StandardCharsets.UTF_8),
        };
        for (int i = 0; i < bad.length; i++) {
            Path model = temp.resolve("bad" + i + ".pdmodel");
            Files.write(model, bad[i]);
            InvalidModelException e = assertThrows(InvalidModelException.class,
                    () -> Predictor.create(PredictorConfig.builder(model, files.paramsFile()).build()));
            assertTrue(e.getMessage().contains(model.toString()), e.getMessage());
        }
        // The JVM is alive and Paddle still works.
        assertEquals(1.0, sum(runOnce(predictor, randomImages(1, 9))), 1e-5);
    }

    @Test
    void truncatedAndOversizedParamsAreRejectedNamingTheVariable() throws IOException {
        ModelFiles files = TestModels.files(tiny);
        byte[] params = Files.readAllBytes(files.paramsFile());
        Path truncated = temp.resolve("truncated.pdiparams");
        Files.write(truncated, java.util.Arrays.copyOf(params, params.length - 100));
        InvalidModelException cut = assertThrows(InvalidModelException.class,
                () -> Predictor.create(PredictorConfig.builder(files.modelFile(), truncated).build()));
        assertTrue(cut.getMessage().contains(truncated.toString()), cut.getMessage());
        Path trailing = temp.resolve("trailing.pdiparams");
        Files.write(trailing, java.util.Arrays.copyOf(params, params.length + 8));
        InvalidModelException extra = assertThrows(InvalidModelException.class,
                () -> Predictor.create(PredictorConfig.builder(files.modelFile(), trailing).build()));
        assertTrue(extra.getMessage().contains(trailing.toString()), extra.getMessage());
    }

    @Test
    void configurationIsValidatedWhenBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TestModels.config(tiny).mathThreads(0));
        assertEquals("Invalid value 0 for mathThreads: must be between 1 and 256", e.getMessage());
    }

    static float[] runOnce(Predictor p, FloatBuffer input) {
        p.setInput(0, input, TestModels.batchShape(p, 1));
        p.run();
        float[] out = new float[p.outputShape(0)[1]];
        p.copyOutput(0, out);
        return out;
    }

    static FloatBuffer randomImages(int batch, long seed) {
        int n = batch * 3 * 224 * 224;
        FloatBuffer buffer = ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            buffer.put(i, (float) random.nextDouble(-2, 2));
        }
        return buffer;
    }

    private static float[] toArray(FloatBuffer buffer) {
        float[] values = new float[buffer.capacity()];
        buffer.duplicate().position(0).get(values);
        return values;
    }

    private static double sum(float[] values) {
        double s = 0;
        for (float v : values) {
            s += v;
        }
        return s;
    }
}
