package io.inferencefleet.benchmarks.paddle;

import io.inferencefleet.paddle.Predictor;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Resident memory added by each extra clone of the ResNet-50 predictor (each clone has run once, so
 * its activations are allocated). Run in its own JVM; prints one line per clone and the median.
 */
public final class CloneMemory {
    private CloneMemory() {}

    public static void main(String[] args) throws IOException {
        int clones = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        long beforeLoad = rssKiB();
        Predictor.paddleVersion();
        long libraryLoaded = rssKiB();
        List<Predictor> predictors = new ArrayList<>();
        try {
            Predictor original = Predictor.create(BenchModels.config("resnet50", 1));
            predictors.add(original);
            int[] shape = BenchModels.shape(original, 1);
            FloatBuffer input = BenchModels.input(shape);
            runOnce(original, input, shape);
            long previous = rssKiB();
            System.out.printf("rss library_load_MiB=%.1f original_predictor_MiB=%.1f%n",
                    (libraryLoaded - beforeLoad) / 1024.0, (previous - libraryLoaded) / 1024.0);
            double[] deltas = new double[clones];
            for (int i = 0; i < clones; i++) {
                Predictor clone = original.cloneSharingWeights();
                predictors.add(clone);
                runOnce(clone, input, shape);
                long now = rssKiB();
                deltas[i] = (now - previous) / 1024.0;
                previous = now;
                System.out.printf("rss clone=%d added_MiB=%.1f%n", i + 1, deltas[i]);
            }
            Arrays.sort(deltas);
            System.out.printf("rss median_added_per_clone_MiB=%.1f%n", deltas[deltas.length / 2]);
        } finally {
            predictors.forEach(Predictor::close);
        }
    }

    private static void runOnce(Predictor predictor, FloatBuffer input, int[] shape) {
        predictor.setInput(0, input, shape);
        predictor.run();
        predictor.copyOutput(0, new float[1000]);
    }

    static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }
}
