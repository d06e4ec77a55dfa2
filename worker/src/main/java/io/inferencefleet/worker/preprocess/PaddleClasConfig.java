package io.inferencefleet.worker.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The preprocessing and post-processing a PaddleClas export declares in its {@code inference.yml}:
 * {@code DecodeImage} (to_rgb), {@code ResizeImage} (resize_short), {@code CropImage} (size),
 * {@code NormalizeImage} (scale, mean, std, order), {@code ToCHWImage}; {@code PostProcess} topk and
 * class_id_map_file. Anything else is refused by name rather than silently ignored, because a
 * preprocessing step we skip would give wrong predictions without any error.
 */
public record PaddleClasConfig(PreprocessConfig preprocess, int topK, Optional<Path> labelFile) {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Classes in a result when neither the request nor the model's inference.yml says how many. */
    public static final int DEFAULT_TOP_K = 5;

    /** For a model without an inference.yml: {@code preprocess}, top {@value #DEFAULT_TOP_K}, no labels. */
    public static PaddleClasConfig defaults(PreprocessConfig preprocess) {
        return new PaddleClasConfig(preprocess, DEFAULT_TOP_K, Optional.empty());
    }

    /** Reads {@code yml}; settings it does not mention keep the values of {@code defaults}. */
    public static PaddleClasConfig read(Path yml, PreprocessConfig defaults) {
        JsonNode root;
        try {
            root = YAML.readTree(yml.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(yml + ": not readable YAML: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(yml + ": expected a mapping with PreProcess and PostProcess");
        }
        PreprocessConfig config = defaults;
        int resizeShort = defaults.resizeShortSide();
        int crop = defaults.cropSize();
        for (JsonNode op : root.path("PreProcess").path("transform_ops")) {
            String name = op.fieldNames().hasNext() ? op.fieldNames().next() : "";
            JsonNode args = op.path(name);
            switch (name) {
                case "DecodeImage":
                    config = config.withRgb(args.path("to_rgb").asBoolean(true));
                    break;
                case "ResizeImage":
                    if (!args.has("resize_short")) {
                        throw unsupported(yml, "ResizeImage without resize_short: " + args);
                    }
                    resizeShort = args.path("resize_short").asInt();
                    break;
                case "CropImage":
                    crop = args.path("size").asInt();
                    break;
                case "NormalizeImage":
                    if (!args.path("order").asText("").isEmpty() && !args.path("order").asText().equals("hwc")) {
                        throw unsupported(yml, "NormalizeImage order " + args.path("order"));
                    }
                    config = config.withNormalization(number(yml, args.path("scale"), config.scale()),
                            triple(yml, args.path("mean"), "mean"), triple(yml, args.path("std"), "std"));
                    break;
                case "ToCHWImage":
                    break;  // our output is always CHW
                default:
                    throw unsupported(yml, "preprocessing op '" + name + "'");
            }
        }
        config = config.withResize(resizeShort, crop);
        JsonNode post = root.path("PostProcess");
        int topK = post.path("topk").asInt(DEFAULT_TOP_K);
        Optional<Path> labels = Optional.empty();
        if (post.hasNonNull("class_id_map_file")) {
            Path file = yml.resolveSibling(post.path("class_id_map_file").asText());
            labels = Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
        }
        return new PaddleClasConfig(config, topK, labels);
    }

    /** Labels from a PaddleClas class-id map ("0 tench, Tinca tinca" per line), indexed by class id. */
    public List<String> labels() {
        List<String> labels = new ArrayList<>();
        if (labelFile.isEmpty()) {
            return labels;
        }
        try {
            for (String line : Files.readAllLines(labelFile.get(), StandardCharsets.UTF_8)) {
                int space = line.indexOf(' ');
                labels.add(space < 0 ? line.trim() : line.substring(space + 1).trim());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(labelFile.get() + ": unreadable label file: " + e.getMessage(), e);
        }
        return labels;
    }

    /** A number, or a fraction written as text ("1.0/255.0", as PaddleClas configs do). */
    private static double number(Path yml, JsonNode node, double fallback) {
        if (node.isMissingNode() || node.isNull()) {
            return fallback;
        }
        if (node.isNumber()) {
            return node.asDouble();
        }
        String text = node.asText().trim();
        try {
            int slash = text.indexOf('/');
            return slash < 0 ? Double.parseDouble(text)
                    : Double.parseDouble(text.substring(0, slash)) / Double.parseDouble(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(yml + ": Invalid value '" + text + "' for NormalizeImage.scale", e);
        }
    }

    private static double[] triple(Path yml, JsonNode node, String name) {
        if (!node.isArray() || node.size() != 3) {
            throw new IllegalArgumentException(yml + ": Invalid value " + node + " for NormalizeImage." + name
                    + ": needs 3 numbers");
        }
        return new double[] {node.get(0).asDouble(), node.get(1).asDouble(), node.get(2).asDouble()};
    }

    private static IllegalArgumentException unsupported(Path yml, String what) {
        return new IllegalArgumentException(yml + ": unsupported " + what
                + " (supported: DecodeImage, ResizeImage resize_short, CropImage, NormalizeImage, ToCHWImage)");
    }
}
