package io.inferencefleet.ops.cli;

import io.inferencefleet.paddle.Predictor;
import io.inferencefleet.paddle.PredictorConfig;
import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.worker.preprocess.ImagePreprocessor;
import io.inferencefleet.worker.preprocess.PaddleClasConfig;
import io.inferencefleet.worker.preprocess.PreprocessConfig;
import io.inferencefleet.worker.preprocess.PreprocessStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code fleet classify}: images on this machine through OpenCV preprocessing and a Paddle
 * predictor, one line per image. The same preprocessing and predictor the worker uses, without
 * Kafka: a quick check of a model directory and of images.
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Classify local image files (or directories of them) with a Paddle model.",
            "Without --model, uses models/resnet50, generating it first if needed (synthetic weights)."})
final class ClassifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Image files or directories.")
    List<Path> paths;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory (PaddleClas export or generated).")
    Path modelDir;

    @Option(names = "--math-threads", defaultValue = "1", description = "Paddle CPU math threads (default: ${DEFAULT-VALUE}).")
    int mathThreads;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = modelDir != null ? modelDir : DefaultModel.ensure(out);
        ModelFiles files = ModelFiles.inDirectory(dir);
        PaddleClasConfig clas = files.inferenceConfig()
                .map(yml -> PaddleClasConfig.read(yml, PreprocessConfig.imageNet()))
                .orElse(PaddleClasConfig.defaults(PreprocessConfig.imageNet()));
        if (DefaultModel.isSynthetic(files)) {
            out.println("note: " + dir + " has synthetic weights: classes and scores are meaningless. "
                    + "Use --model with a PaddleClas export (inference.pdmodel, inference.pdiparams, inference.yml).");
        }
        List<String> labels = clas.labels();
        List<Path> images = expand(paths);
        PreprocessConfig pre = clas.preprocess();
        ByteBuffer tensor = ByteBuffer.allocateDirect(pre.tensorBytes()).order(ByteOrder.nativeOrder());
        int[] shape = {1, 3, pre.cropSize(), pre.cropSize()};
        int ok = 0;
        long start = System.nanoTime();
        try (Predictor predictor = Predictor.create(PredictorConfig.builder(files.modelFile(), files.paramsFile())
                     .mathThreads(mathThreads).build());
             ImagePreprocessor preprocessor = new ImagePreprocessor(pre)) {
            float[] scores = new float[Math.toIntExact(Math.max(1, predictor.outputs().get(0).dim(1)))];
            for (Path image : images) {
                long t0 = System.nanoTime();
                PreprocessStatus status = preprocessor.preprocess(Files.readAllBytes(image), tensor.clear());
                long t1 = System.nanoTime();
                if (status != PreprocessStatus.OK) {
                    out.printf("%-28s ERROR %-24s %s%n", image.getFileName(), status.code(), preprocessor.lastDetail());
                    continue;
                }
                predictor.setInput(0, tensor.asFloatBuffer(), shape);
                predictor.run();
                predictor.copyOutput(0, scores);
                long t2 = System.nanoTime();
                int best = argMax(scores);
                String label = best < labels.size() && labels.get(best) != null ? " " + labels.get(best) : "";
                out.printf("%-28s OK    class=%d%s score=%.4f  preprocess=%.1fms infer=%.1fms%n", image.getFileName(),
                        best, label, scores[best], (t1 - t0) / 1e6, (t2 - t1) / 1e6);
                ok++;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf("%d images: %d OK, %d ERROR in %.2f s%n", images.size(), ok, images.size() - ok, seconds);
        return 0;
    }

    private static List<Path> expand(List<Path> paths) throws IOException {
        List<Path> images = new ArrayList<>();
        for (Path path : paths) {
            if (Files.isDirectory(path)) {
                try (Stream<Path> children = Files.list(path)) {
                    children.filter(Files::isRegularFile).sorted().forEach(images::add);
                }
            } else if (Files.isRegularFile(path)) {
                images.add(path);
            } else {
                throw new IllegalArgumentException(path + ": no such file or directory");
            }
        }
        return images;
    }

    private static int argMax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
