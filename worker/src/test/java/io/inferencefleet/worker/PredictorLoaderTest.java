package io.inferencefleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.Engine;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.paddle.model.synthetic.ProgramBuilder;
import io.inferencefleet.paddle.model.synthetic.SyntheticWeights;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** predictor.engine at start-up, on real Paddle: as asked, refused with the key named, or timed (auto). */
class PredictorLoaderTest {
    private static final int[] ONE_IMAGE = {1, 3, 224, 224};

    @TempDir
    Path temp;

    @Test
    void eachEngineAsAskedAndAutoSaysWhy() throws Exception {
        ModelFiles tiny = BuiltinModels.generate("tiny", temp.resolve("tiny"), 1);
        for (String engine : new String[] {"paddle", "onnxruntime"}) {
            PredictorLoader.Loaded loaded = PredictorLoader.load(engine, settings(tiny), ONE_IMAGE);
            try (var predictor = loaded.predictor()) {
                assertEquals(Engine.fromKey(engine), predictor.engine());
            }
        }
        PredictorLoader.Loaded auto = PredictorLoader.load("auto", settings(tiny), ONE_IMAGE);
        try (var predictor = auto.predictor()) {
            assertTrue(auto.reason().startsWith("auto: " + predictor.engine().key() + " is faster: paddle median "),
                    auto.reason());
        }
    }

    @Test
    void onnxRuntimeForAModelItCannotRunIsAConfigurationErrorNamingTheKey() throws Exception {
        ProgramBuilder b = new ProgramBuilder(SyntheticWeights.seeded(3));
        String x = b.shuffleChannel(b.relu(b.batchNorm(b.conv2d(b.input("x", 3, 224, 224), 8, 3, 2, 1))), 2);
        b.output(b.softmax(b.fc(b.flatten(b.globalAvgPool(x)), 10)));
        ModelFiles model = b.build().writeTo(temp, "inference");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PredictorLoader.load("onnxruntime", settings(model), ONE_IMAGE));
        assertTrue(e.getMessage().startsWith("Invalid value onnxruntime for predictor.engine: "), e.getMessage());
        assertTrue(e.getMessage().contains("paddle2onnx could not convert"), e.getMessage());
        PredictorLoader.Loaded auto = PredictorLoader.load("auto", settings(model), ONE_IMAGE);
        try (var predictor = auto.predictor()) {
            assertEquals(Engine.PADDLE, predictor.engine());
            assertTrue(auto.reason().startsWith("auto: onnxruntime unavailable: "), auto.reason());
        }
        // The worker process: a configuration error, which a supervisor does not restart (no broker needed:
        // the predictor is loaded before any Kafka client exists).
        assertEquals(WorkerExit.CONFIG_ERROR, WorkerMain.run(java.util.List.of("--model.dir=" + temp,
                "--predictor.engine=onnxruntime", "--metrics.port=-1", "--shm.dir=" + temp.resolve("shm"))));
    }

    private static PredictorConfig.Builder settings(ModelFiles model) {
        return PredictorConfig.builder(model.modelFile(), model.paramsFile());
    }
}
