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
}
