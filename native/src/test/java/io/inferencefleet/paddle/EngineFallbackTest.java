package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.synthetic.ProgramBuilder;
import io.inferencefleet.paddle.model.synthetic.SyntheticWeights;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paddle keeps its own engine, with only a warning on stderr, when paddle2onnx cannot convert the
 * program. A model with {@code shuffle_channel} (no paddle2onnx converter in 1.0.0rc2) shows that the
 * binding notices: asking for ONNX Runtime is an error that says so, and Paddle's engine runs it.
 */
class EngineFallbackTest {
    @TempDir
    Path dir;

    private ModelFiles shuffleModel() throws IOException {
        ProgramBuilder b = new ProgramBuilder(SyntheticWeights.seeded(3));
        String x = b.input("x", 3, 224, 224);
        x = b.relu(b.batchNorm(b.conv2d(x, 8, 3, 2, 1)));
        x = b.shuffleChannel(x, 2);
        x = b.flatten(b.globalAvgPool(x));
        b.output(b.softmax(b.fc(x, 10)));
        return b.build().writeTo(dir, "inference");
    }

    @Test
    void onnxRuntimeAskedForAModelPaddle2OnnxCannotConvertIsAnErrorNamingTheFallback() throws IOException {
        ModelFiles model = shuffleModel();
        PredictorConfig ort = PredictorConfig.builder(model.modelFile(), model.paramsFile()).engine(Engine.ONNXRUNTIME)
                .build();
        EngineUnavailableException e = assertThrows(EngineUnavailableException.class, () -> Predictor.create(ort));
        assertEquals(Engine.ONNXRUNTIME, e.requested());
        assertEquals(Engine.PADDLE, e.built(), "Paddle fell back to its own engine");
        assertTrue(e.getMessage().contains("paddle2onnx could not convert"), e.getMessage());
    }

    @Test
    void paddlesOwnEngineRunsTheSameModel() throws IOException {
        ModelFiles model = shuffleModel();
        try (Predictor predictor = Predictor.create(PredictorConfig.builder(model.modelFile(), model.paramsFile()).build())) {
            assertEquals(Engine.PADDLE, predictor.engine());
            FloatBuffer input = PredictorTest.randomImages(1, 4);
            float[] out = PredictorTest.runOnce(predictor, input);
            double sum = 0;
            for (float p : out) {
                sum += p;
            }
            assertEquals(1.0, sum, 1e-5, "softmax over 10 classes");
        }
    }
}
