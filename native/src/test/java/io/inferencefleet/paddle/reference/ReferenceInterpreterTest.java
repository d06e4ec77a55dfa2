package io.inferencefleet.paddle.reference;

import io.inferencefleet.paddle.model.ModelInfo;
import io.inferencefleet.paddle.model.ModelReader;
import io.inferencefleet.paddle.model.proto.FrameworkProto.OpDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.ProgramDesc;
import io.inferencefleet.paddle.model.synthetic.BuiltModel;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.paddle.model.synthetic.ProgramBuilder;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReferenceInterpreterTest {
    private final ReferenceInterpreter interpreter = new ReferenceInterpreter();

    @Test
    void tinyModelGivesAProbabilityDistributionPerImageIndependentOfBatch() {
        BuiltModel built = BuiltinModels.build(BuiltinModels.TINY, 11);
        ModelInfo model = ModelReader.validate(built.program(), Path.of("tiny"));
        float[] batch = randomImages(2, 12);
        DoubleTensor both = interpreter.run(model, built.parameterValues(), batch, new int[] {2, 3, 224, 224});
        assertArrayEquals(new int[] {2, 10}, both.shape());
        int image = 3 * 224 * 224;
        for (int n = 0; n < 2; n++) {
            float[] single = Arrays.copyOfRange(batch, n * image, (n + 1) * image);
            DoubleTensor alone = interpreter.run(model, built.parameterValues(), single, new int[] {1, 3, 224, 224});
            double[] row = Arrays.copyOfRange(both.data(), n * 10, (n + 1) * 10);
            assertArrayEquals(alone.data(), row, 1e-12);
            assertEquals(1.0, Arrays.stream(row).sum(), 1e-12);
        }
        assertTrue(Math.abs(both.data()[0] - both.data()[10]) > 1e-9, "different images, different outputs");
    }

    @Test
    void computesAHandBuiltNetworkExactly() {
        // x -> conv (weights all 1, 1x1) -> relu -> fc (weights 1, bias 0.5) with known values.
        ProgramBuilder b = new ProgramBuilder((name, role, dims, fanIn) -> {
            float[] v = new float[(int) Arrays.stream(dims).reduce(1, (p, q) -> p * q)];
            Arrays.fill(v, role.name().equals("FC_BIAS") ? 0.5f : 1f);
            return v;
        });
        String x = b.input("x", 2, 1, 2);
        x = b.relu(b.conv2d(x, 1, 1, 1, 0));
        b.output(b.fc(b.flatten(x), 1));
        BuiltModel built = b.build();
        ModelInfo model = ModelReader.validate(built.program(), Path.of("hand"));
        // channel sums: (1-3, 2+1) = (-2, 3) -> relu (0, 3) -> fc: 0 + 3 + 0.5
        DoubleTensor out = interpreter.run(model, built.parameterValues(), new float[] {1, 2, -3, 1},
                new int[] {1, 2, 1, 2});
        assertArrayEquals(new double[] {3.5}, out.data(), 1e-12);
    }

    @Test
    void rejectsUnknownOpByName() {
        BuiltModel built = BuiltinModels.build(BuiltinModels.TINY, 1);
        ProgramDesc.Builder p = built.program().toBuilder();
        int relu = p.getBlocks(0).getOpsList().stream().map(OpDesc::getType).toList().indexOf("relu");
        p.getBlocksBuilder(0).setOps(relu, p.getBlocks(0).getOps(relu).toBuilder().setType("gelu"));
        ModelInfo model = ModelReader.validate(p.build(), Path.of("gelu"));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> interpreter.run(model, built.parameterValues(), randomImages(1, 1), new int[] {1, 3, 224, 224}));
        assertTrue(e.getMessage().contains("'gelu'"), e.getMessage());
    }

    @Test
    void rejectsInputOfTheWrongShape() {
        BuiltModel built = BuiltinModels.build(BuiltinModels.TINY, 1);
        ModelInfo model = ModelReader.validate(built.program(), Path.of("tiny"));
        Map<String, float[]> params = built.parameterValues();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> interpreter.run(model, params, new float[3 * 32 * 32], new int[] {1, 3, 32, 32}));
        assertTrue(e.getMessage().contains("[1, 3, 32, 32]"), e.getMessage());
    }

    private static float[] randomImages(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n * 3 * 224 * 224];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }
}
