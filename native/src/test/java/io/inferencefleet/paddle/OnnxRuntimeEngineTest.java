package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.ModelInfo;
import io.inferencefleet.paddle.model.ModelReader;
import io.inferencefleet.paddle.model.ParamsFile;
import io.inferencefleet.paddle.reference.DoubleTensor;
import io.inferencefleet.paddle.reference.ReferenceInterpreter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Paddle's ONNX Runtime backend through our binding: the engine that runs is the one reported,
 * input stays zero-copy, outputs agree with Paddle's own engine and the float64 reference, clones
 * share the session, and failures are exceptions.
 */
class OnnxRuntimeEngineTest {
    /** Both engines run float32; ONNX Runtime fuses and reorders differently from Paddle. */
    private static final double TOLERANCE = 1e-4;

    private static PredictorConfig.Builder config(Path dir, Engine engine) {
        return TestModels.config(dir).engine(engine);
    }

    @Test
    void theEngineReportedIsTheEnginePaddleBuilt() throws IOException {
        Path dir = TestModels.tiny();
        try (Predictor paddle = Predictor.create(TestModels.config(dir).build());
             Predictor ort = Predictor.create(config(dir, Engine.ONNXRUNTIME).build());
             Predictor clone = ort.cloneSharingWeights()) {
            assertEquals(Engine.PADDLE, paddle.engine(), "the default stays Paddle's own engine");
            assertEquals(Engine.ONNXRUNTIME, ort.engine());
            assertEquals(Engine.ONNXRUNTIME, clone.engine());
            assertTrue(ort.toString().contains("engine=onnxruntime"), ort.toString());
        }
    }

    /**
     * The memory handed to setInput is what the engine reads at run(): the tensor is changed in
     * place after it was shared, and the output follows the new contents, run after run.
     */
    @ParameterizedTest
    @EnumSource(Engine.class)
    void inputIsReadInPlaceAtRunNotCopiedAtShare(Engine engine) throws IOException {
        Path dir = TestModels.tiny();
        FloatBuffer first = PredictorTest.randomImages(1, 21);
        FloatBuffer second = PredictorTest.randomImages(1, 22);
        try (Predictor predictor = Predictor.create(config(dir, engine).build())) {
            float[] expectedFirst = PredictorTest.runOnce(predictor, first);
            float[] expectedSecond = PredictorTest.runOnce(predictor, second);
            assertFalse(Arrays.equals(expectedFirst, expectedSecond), "the two images must give different outputs");

            FloatBuffer shared = PredictorTest.randomImages(1, 21);
            int[] shape = TestModels.batchShape(predictor, 1);
            predictor.setInput(0, shared, shape);
            copyInPlace(second, shared);  // after the share, before the run
            assertArrayEquals(expectedSecond, run(predictor), "the run did not read the shared memory");
            copyInPlace(first, shared);   // no new share: the same address is read again
            assertArrayEquals(expectedFirst, run(predictor), "the second run did not read the shared memory");
        }
    }

    @Test
    void tinyOnOnnxRuntimeMatchesPaddleAndTheReferenceOnABatchOfTwo() throws IOException {
        FloatBuffer input = PredictorTest.randomImages(2, 11);
        float[] values = new float[input.capacity()];
        input.get(0, values);
        assertEnginesAgree(TestModels.tiny(), values, new int[] {2, 3, 224, 224}, "tiny batch 2");
    }

    @Test
    @Tag("slow")
    void resnet50OnOnnxRuntimeMatchesPaddleAndTheReferenceOnARealPhoto() throws IOException {
        float[] values = PaddleMatchesReferenceTest.imageNetTensor(SharedImages.dir().resolve("squirrel_cls.jpg"));
        assertEnginesAgree(TestModels.resnet50(), values, new int[] {1, 3, 224, 224}, "resnet50 squirrel_cls.jpg");
    }

    @Test
    void aCloneKeepsWorkingAfterTheOriginalIsClosed() throws IOException {
        FloatBuffer input = PredictorTest.randomImages(1, 5);
        Predictor original = Predictor.create(config(TestModels.tiny(), Engine.ONNXRUNTIME).build());
        float[] expected = PredictorTest.runOnce(original, input);
        try (Predictor clone = original.cloneSharingWeights()) {
            original.close();
            original.close();  // idempotent
            assertTrue(original.isClosed());
            assertArrayEquals(expected, PredictorTest.runOnce(clone, input));
        }
        assertThrows(IllegalStateException.class, original::run);
    }

    @Test
    void onnxRuntimeFailuresArePaddleExceptionsAndThePredictorStaysUsable() throws Exception {
        FloatBuffer input = PredictorTest.randomImages(1, 9);
        try (Predictor predictor = Predictor.create(config(TestModels.tiny(), Engine.ONNXRUNTIME).build())) {
            // Nothing shared yet: ONNX Runtime finds no memory behind the input.
            PaddleException noInput = assertThrows(PaddleException.class, predictor::run);
            assertTrue(noInput.getMessage().contains("ONNX Runtime rejected the run"), noInput.getMessage());

            // A shape the Java edge rejects never reaches Paddle ...
            int[] wrong = {1, 3, 100, 100};
            assertThrows(IllegalArgumentException.class, () -> predictor.setInput(0, input, wrong));
            // ... and if it did (raw binding call), ONNX Runtime's refusal is an exception, not a crash.
            PaddleNative.shareInput(rawHandle(predictor), 0, PaddleNative.directBufferAddress(input), wrong);
            assertThrows(PaddleException.class, predictor::run);

            float[] expected;
            try (Predictor paddle = Predictor.create(TestModels.config(TestModels.tiny()).build())) {
                expected = PredictorTest.runOnce(paddle, input);
            }
            assertArrayEquals(expected, PredictorTest.runOnce(predictor, input), 1e-5f, "usable after the failures");
        }
    }

    /** Before any run ONNX Runtime's bound outputs hold no tensor: reading them is an exception, not a crash. */
    @Test
    void readingOnnxRuntimeOutputsBeforeAnyRunIsAPaddleException() throws IOException {
        try (Predictor predictor = Predictor.create(config(TestModels.tiny(), Engine.ONNXRUNTIME).build())) {
            assertThrows(PaddleException.class, () -> predictor.outputShape(0));
            assertThrows(PaddleException.class, () -> predictor.copyOutput(0, new float[10]));
            assertThrows(PaddleException.class, predictor::run);
            assertThrows(PaddleException.class, () -> predictor.copyOutput(0, new float[10]), "after a failed run too");
            assertEquals(10, PredictorTest.runOnce(predictor, PredictorTest.randomImages(1, 3)).length);
        }
    }

    @Test
    void aMissingModelFileOnOnnxRuntimeIsAPaddleException() throws IOException {
        ModelFiles files = TestModels.files(TestModels.tiny());
        PredictorConfig missing = PredictorConfig.builder(files.modelFile().resolveSibling("absent.pdmodel"),
                files.paramsFile()).engine(Engine.ONNXRUNTIME).build();
        assertThrows(PaddleException.class, () -> Predictor.create(missing));
    }

    private static void assertEnginesAgree(Path dir, float[] values, int[] shape, String what) throws IOException {
        ModelFiles files = ModelFiles.inDirectory(dir);
        ModelInfo model = ModelReader.read(files.modelFile());
        Map<String, float[]> params = ParamsFile.read(files.paramsFile(), model);
        DoubleTensor expected = new ReferenceInterpreter().run(model, params, values, shape);
        float[] ort = runOn(Engine.ONNXRUNTIME, dir, values, shape, expected);
        float[] paddle = runOn(Engine.PADDLE, dir, values, shape, expected);
        double vsReference = 0;
        double vsPaddle = 0;
        double maxProbability = 0;
        for (int i = 0; i < ort.length; i++) {
            vsReference = Math.max(vsReference, Math.abs(ort[i] - expected.data()[i]));
            vsPaddle = Math.max(vsPaddle, Math.abs(ort[i] - paddle[i]));
            maxProbability = Math.max(maxProbability, expected.data()[i]);
        }
        System.out.printf("%s: max abs error ONNX Runtime vs float64 reference = %.3g, vs Paddle's engine = %.3g%n", what,
                vsReference, vsPaddle);
        // Guard against a vacuous comparison (e.g. all-zero or uniform outputs).
        assertTrue(maxProbability > 1.5 / expected.shape()[1], "outputs are not uniform: max " + maxProbability);
        assertTrue(vsReference <= TOLERANCE, "ONNX Runtime vs reference: " + vsReference);
        assertTrue(vsPaddle <= TOLERANCE, "ONNX Runtime vs Paddle: " + vsPaddle);
    }

    private static float[] runOn(Engine engine, Path dir, float[] values, int[] shape, DoubleTensor expected) {
        FloatBuffer direct = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        direct.put(0, values);
        float[] actual = new float[expected.data().length];
        try (Predictor predictor = Predictor.create(config(dir, engine).build())) {
            assertEquals(engine, predictor.engine());
            predictor.setInput(0, direct, shape);
            predictor.run();
            assertArrayEquals(expected.shape(), predictor.outputShape(0));
            assertEquals(actual.length, predictor.copyOutput(0, actual));
        }
        return actual;
    }

    private static float[] run(Predictor predictor) {
        predictor.run();
        float[] out = new float[predictor.outputShape(0)[1]];
        predictor.copyOutput(0, out);
        return out;
    }

    private static void copyInPlace(FloatBuffer from, FloatBuffer to) {
        for (int i = 0; i < from.capacity(); i++) {
            to.put(i, from.get(i));
        }
    }

    /** The raw handle, to call the binding below the Java checks (this test's package sees PaddleNative). */
    private static long rawHandle(Predictor predictor) throws ReflectiveOperationException {
        var field = Predictor.class.getDeclaredField("handle");
        field.setAccessible(true);
        Object handle = field.get(predictor);
        var get = handle.getClass().getDeclaredMethod("get");
        get.setAccessible(true);
        return (long) get.invoke(handle);
    }
}
