package io.inferencefleet.paddle.model.synthetic;

/** The topologies {@link BuiltinModels} can generate, written against {@link ProgramBuilder}. */
final class Architectures {
    static final long[] IMAGE_CHW = {3, 224, 224};

    private Architectures() {
    }

    /**
     * A small CNN with every op kind ResNet uses (and the same 224x224 input, so the same
     * preprocessing serves both), cheap enough for unit tests: about 14 MFLOPs per image.
     */
    static BuiltModel tiny(WeightInitializer weights) {
        ProgramBuilder b = new ProgramBuilder(weights);
        String x = b.input("x", IMAGE_CHW);
        x = b.relu(b.batchNorm(b.conv2d(x, 8, 3, 2, 1)));              // 8 x 112 x 112
        x = b.maxPool(x, 3, 2, 1);                                      // 8 x 56 x 56
        String branch = b.relu(b.batchNorm(b.conv2d(x, 8, 3, 1, 1)));
        branch = b.batchNorm(b.conv2d(branch, 8, 3, 1, 1), true);
        x = b.relu(b.add(x, branch));
        x = b.relu(b.batchNorm(b.conv2d(x, 16, 3, 2, 1)));             // 16 x 28 x 28
        x = b.avgPool(x, 2, 2, 0);                                      // 16 x 14 x 14
        x = b.flatten(b.globalAvgPool(x));
        b.output(b.softmax(b.fc(x, 10)));
        return b.build();
    }

    /**
     * ResNet-50 v1.5 for ImageNet: the stride of a downsampling bottleneck sits in its 3x3 conv
     * (v1 put it in the first 1x1), projection shortcuts are 1x1 conv + batch norm.
     */
    static BuiltModel resnet50(WeightInitializer weights) {
        ProgramBuilder b = new ProgramBuilder(weights);
        String x = b.input("x", IMAGE_CHW);
        x = b.relu(b.batchNorm(b.conv2d(x, 64, 7, 2, 3)));
        x = b.maxPool(x, 3, 2, 1);
        int[] blocks = {3, 4, 6, 3};
        int[] widths = {64, 128, 256, 512};
        for (int stage = 0; stage < blocks.length; stage++) {
            for (int i = 0; i < blocks[stage]; i++) {
                int stride = (stage > 0 && i == 0) ? 2 : 1;
                x = bottleneck(b, x, widths[stage], stride, i == 0);
            }
        }
        x = b.flatten(b.globalAvgPool(x));
        b.output(b.softmax(b.fc(x, 1000)));
        return b.build();
    }

    private static String bottleneck(ProgramBuilder b, String x, int width, int stride, boolean project) {
        String y = b.relu(b.batchNorm(b.conv2d(x, width, 1, 1, 0)));
        y = b.relu(b.batchNorm(b.conv2d(y, width, 3, stride, 1)));
        y = b.batchNorm(b.conv2d(y, width * 4, 1, 1, 0), true);
        String shortcut = project ? b.batchNorm(b.conv2d(x, width * 4, 1, stride, 0)) : x;
        return b.relu(b.add(shortcut, y));
    }
}
