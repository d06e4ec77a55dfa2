package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.synthetic.ProgramBuilder;
import io.inferencefleet.paddle.model.synthetic.SyntheticWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engine {@code auto}: both engines timed on this CPU, the faster kept, the reason given. */
class EngineTrialTest {
    private static final int[] ONE_IMAGE = {1, 3, 224, 224};

    @TempDir
    Path dir;

    @Test
    void keepsTheEngineWithTheLowerMedianAndSaysWhy() throws IOException {
        EngineTrial.Outcome outcome = EngineTrial.choose(TestModels.config(TestModels.tiny()).build(), ONE_IMAGE, 3);
        try (Predictor kept = outcome.predictor()) {
            assertFalse(kept.isClosed());
            EngineTrial.Timing paddle = outcome.timings().get(0);
            EngineTrial.Timing ort = outcome.timings().get(1);
            assertEquals(Engine.PADDLE, paddle.engine());
            assertEquals(Engine.ONNXRUNTIME, ort.engine());
            assertEquals(3, paddle.runsMs().size());
            assertEquals(3, ort.runsMs().size());
            Engine faster = ort.medianMs() < paddle.medianMs() ? Engine.ONNXRUNTIME : Engine.PADDLE;
            assertEquals(faster, kept.engine(), outcome.reason());
            assertTrue(outcome.reason().startsWith(faster.key() + " is faster: "), outcome.reason());
            assertTrue(outcome.reason().contains(String.format("%.1f ms", paddle.medianMs())), outcome.reason());
            System.out.println("tiny, auto: kept " + kept.engine().key() + " because " + outcome.reason());
            PredictorTest.runOnce(kept, PredictorTest.randomImages(1, 1));  // usable
        }
    }

    @Test
    void stopsAfterThreeRunsEachOnlyWhenTheRunsDoNotOverlap() throws IOException {
        EngineTrial.Outcome outcome = EngineTrial.choose(TestModels.config(TestModels.tiny()).build(), ONE_IMAGE, 9);
        try (Predictor kept = outcome.predictor()) {
            List<Double> paddle = outcome.timings().get(0).runsMs();
            List<Double> ort = outcome.timings().get(1).runsMs();
            assertEquals(paddle.size(), ort.size(), "alternating runs");
            assertTrue(paddle.size() >= 3 && paddle.size() <= 9, outcome.reason());
            if (paddle.size() < 9) {  // stopped early: then the runs were separated
                double paddleMin = Collections.min(paddle);
                double ortMin = Collections.min(ort);
                assertTrue(Collections.max(paddle) < ortMin || Collections.max(ort) < paddleMin, outcome.reason());
            }
            assertTrue(outcome.reason().contains("over " + paddle.size() + " alternating runs"), outcome.reason());
        }
    }

    @Test
    void choosesPaddleWithoutARaceWhenOnnxRuntimeCannotTakeTheModel() throws IOException {
        ProgramBuilder b = new ProgramBuilder(SyntheticWeights.seeded(3));
        String x = b.shuffleChannel(b.relu(b.batchNorm(b.conv2d(b.input("x", 3, 224, 224), 8, 3, 2, 1))), 4);
        b.output(b.softmax(b.fc(b.flatten(b.globalAvgPool(x)), 10)));
        ModelFiles model = b.build().writeTo(dir, "inference");
        EngineTrial.Outcome outcome = EngineTrial.choose(
                PredictorConfig.builder(model.modelFile(), model.paramsFile()).build(), ONE_IMAGE, 3);
        try (Predictor kept = outcome.predictor()) {
            assertEquals(Engine.PADDLE, kept.engine());
            assertTrue(outcome.reason().startsWith("onnxruntime unavailable: "), outcome.reason());
            assertTrue(outcome.timings().get(1).runsMs().isEmpty());
        }
    }

    @Test
    void aModelNeitherEngineCanLoadIsAPaddleException() throws IOException {
        ModelFiles files = TestModels.files(TestModels.tiny());
        PredictorConfig missing = PredictorConfig.builder(files.modelFile().resolveSibling("absent.pdmodel"),
                files.paramsFile()).build();
        assertThrows(PaddleException.class, () -> EngineTrial.choose(missing, ONE_IMAGE, 3));
    }

    @Test
    void atLeastOneRun() throws IOException {
        assertThrows(IllegalArgumentException.class,
                () -> EngineTrial.choose(TestModels.config(TestModels.tiny()).build(), ONE_IMAGE, 0));
    }
}
