package io.inferencefleet.worker.preprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PaddleClasConfigTest {
    @TempDir
    Path dir;

    @Test
    void readsTheConfigOurGeneratorWrites() throws Exception {
        Path yml = BuiltinModels.generate("tiny", dir, 1).inferenceConfig().orElseThrow();
        PaddleClasConfig config = PaddleClasConfig.read(yml, PreprocessConfig.imageNet().withResize(300, 300));
        assertEquals(256, config.preprocess().resizeShortSide());
        assertEquals(224, config.preprocess().cropSize());
        assertEquals(1.0 / 255.0, config.preprocess().scale(), 1e-12);
        assertEquals(0.456, config.preprocess().mean(1), 1e-12);
        assertTrue(config.preprocess().rgb());
        assertEquals(5, config.topK());
    }

    @Test
    void takesOtherValuesAndLabelsFromAPaddleClasStyleFile() throws Exception {
        Files.writeString(dir.resolve("labels.txt"), "0 tench, Tinca tinca\n1 goldfish, Carassius auratus\n");
        Path yml = dir.resolve("inference.yml");
        Files.writeString(yml, String.join("\n",
                "PreProcess:",
                "  transform_ops:",
                "  - ResizeImage:",
                "      resize_short: 288",
                "  - CropImage:",
                "      size: 256",
                "  - NormalizeImage:",
                "      scale: 0.00392157",
                "      mean: [0.5, 0.5, 0.5]",
                "      std: [0.5, 0.5, 0.5]",
                "      order: ''",
                "  - ToCHWImage:",
                "PostProcess:",
                "  name: Topk",
                "  topk: 3",
                "  class_id_map_file: labels.txt", ""));
        PaddleClasConfig config = PaddleClasConfig.read(yml, PreprocessConfig.imageNet());
        assertEquals(288, config.preprocess().resizeShortSide());
        assertEquals(256, config.preprocess().cropSize());
        assertEquals(0.5, config.preprocess().std(2), 1e-12);
        assertEquals(3, config.topK());
        assertEquals(List.of("tench, Tinca tinca", "goldfish, Carassius auratus"), config.labels());
    }

    @Test
    void anUnknownPreprocessingStepIsRefusedByName() throws Exception {
        Path yml = dir.resolve("inference.yml");
        Files.writeString(yml, "PreProcess:\n  transform_ops:\n  - RandomFlip:\n      prob: 0.5\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PaddleClasConfig.read(yml, PreprocessConfig.imageNet()));
        assertTrue(e.getMessage().contains("'RandomFlip'"), e.getMessage());
        assertTrue(e.getMessage().startsWith(yml.toString()), e.getMessage());
    }

    private Path ymlNaming(String labelFile) throws Exception {
        Path yml = dir.resolve("inference.yml");
        Files.writeString(yml, "PostProcess:\n  name: Topk\n  topk: 5\n  class_id_map_file: " + labelFile + "\n");
        return yml;
    }

    @Test
    void labelsAreIndexedByTheClassIdOnEachLineNotByLineOrder() throws Exception {
        Files.writeString(dir.resolve("labels.txt"), "2 two, deux\n\n0 zero\n");
        PaddleClasConfig config = PaddleClasConfig.read(ymlNaming("labels.txt"), PreprocessConfig.imageNet());
        assertEquals(java.util.Arrays.asList("zero", null, "two, deux"), config.labels());
        assertEquals(java.util.Optional.of(dir.resolve("labels.txt").toAbsolutePath()), config.labelFile());
    }

    @Test
    void aPaddleClasSourceTreePathIsFoundByItsFileNameBesideTheYmlOrReportedMissing() throws Exception {
        // PaddleClas exports name the list as in its own source tree.
        Path yml = ymlNaming("ppcls/utils/imagenet1k_label_list.txt");
        PaddleClasConfig missing = PaddleClasConfig.read(yml, PreprocessConfig.imageNet());
        assertEquals(List.of(), missing.labels());
        assertEquals(java.util.Optional.of("ppcls/utils/imagenet1k_label_list.txt"), missing.missingLabelFile());

        Files.writeString(dir.resolve("imagenet1k_label_list.txt"), "0 tench, Tinca tinca\n");
        PaddleClasConfig beside = PaddleClasConfig.read(yml, PreprocessConfig.imageNet());
        assertEquals(List.of("tench, Tinca tinca"), beside.labels());
        assertTrue(beside.missingLabelFile().isEmpty());
    }

    @Test
    void aLabelFileOutsideItsBoundsOrMalformedIsAnErrorNamingFileAndLine() throws Exception {
        Path labels = dir.resolve("labels.txt");
        Path yml = ymlNaming("labels.txt");
        List<String[]> cases = List.of(
                new String[] {"0 a\nzero b\n", ":2: bad label file (class_id_map_file): expected '<class id> <label>', got 'zero b'"},
                new String[] {"0 a\n0 b\n", ":2: bad label file (class_id_map_file): class id 0 appears twice"},
                new String[] {"100000 a\n", ":1: bad label file (class_id_map_file): class id 100000 is not in [0, 100000)"},
                new String[] {"-1 a\n", ":1: bad label file (class_id_map_file): class id -1 is not in [0, 100000)"},
                new String[] {"0 " + "x".repeat(257) + "\n", ":1: bad label file (class_id_map_file): label of 257"
                        + " characters, more than 256"});
        for (String[] c : cases) {
            Files.writeString(labels, c[0]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PaddleClasConfig.read(yml, PreprocessConfig.imageNet()));
            assertEquals(labels.toAbsolutePath() + c[1], e.getMessage());
        }
        Files.write(labels, new byte[PaddleClasConfig.MAX_LABEL_FILE_BYTES + 1]);
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> PaddleClasConfig.read(yml, PreprocessConfig.imageNet()));
        assertEquals(labels.toAbsolutePath() + ": label file (class_id_map_file) of 4194305 bytes is larger than 4194304",
                big.getMessage());
    }
}
