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
 *
 * <p>Labels: {@code class_id_map_file} is a file of lines {@code <class id> <label>} (PaddleClas's
 * format: the id, one space, the rest of the line; blank lines skipped). PaddleClas writes the path
 * relative to its own source tree ({@code ppcls/utils/imagenet1k_label_list.txt}), so it is looked for
 * relative to the {@code inference.yml}, then by its file name beside it; when neither exists the
 * model has no labels ({@link #missingLabelFile()} says which was named). A file that exists is read
 * whole at start and bounded: at most {@value #MAX_LABEL_FILE_BYTES} bytes, class ids below
 * {@value #MAX_CLASSES}, labels of at most {@value #MAX_LABEL_CHARS} characters (every result repeats
 * its top-k labels); a file outside these bounds, a line without an id, or an id given twice is an
 * error naming the file and line.
 */
public record PaddleClasConfig(PreprocessConfig preprocess, int topK, Optional<Path> labelFile,
                               Optional<String> missingLabelFile, List<String> labels) {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Largest label file read (ImageNet-1k's is about 30 KB, ImageNet-22k's about 600 KB). */
    public static final int MAX_LABEL_FILE_BYTES = 4 << 20;
    /** Class ids must be below this (the label list is indexed by id). */
    public static final int MAX_CLASSES = 100_000;
    /** Longest label, in characters. */
    public static final int MAX_LABEL_CHARS = 256;
    /** Classes in a result when neither the request nor the model's inference.yml says how many. */
    public static final int DEFAULT_TOP_K = 5;

    /** For a model without an inference.yml: {@code preprocess}, top {@value #DEFAULT_TOP_K}, no labels. */
    public static PaddleClasConfig defaults(PreprocessConfig preprocess) {
        return new PaddleClasConfig(preprocess, DEFAULT_TOP_K, Optional.empty(), Optional.empty(), List.of());
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
        Optional<String> missing = Optional.empty();
        if (post.hasNonNull("class_id_map_file")) {
            String named = post.path("class_id_map_file").asText();
            labels = findLabelFile(yml, named);
            missing = labels.isPresent() ? Optional.empty() : Optional.of(named);
        }
        // Read and checked once, at start, where an error is a configuration error.
        return new PaddleClasConfig(config, topK, labels, missing, readLabels(labels));
    }

    public PaddleClasConfig {
        labels = java.util.Collections.unmodifiableList(new ArrayList<>(labels));  // may hold nulls: List.copyOf cannot
    }

    private static Optional<Path> findLabelFile(Path yml, String named) {
        Path dir = yml.toAbsolutePath().getParent();
        Path asNamed = dir.resolve(named);
        if (Files.isRegularFile(asNamed)) {
            return Optional.of(asNamed);
        }
        Path fileName = asNamed.getFileName();
        Path beside = fileName == null ? null : dir.resolve(fileName);
        return beside != null && Files.isRegularFile(beside) ? Optional.of(beside) : Optional.empty();
    }

    /**
     * Labels indexed by class id (null where the file names no label for an id); empty without a
     * label file.
     *
     * @throws IllegalArgumentException naming the file (and line) when it is out of bounds or malformed
     */
    static List<String> readLabels(Optional<Path> labelFile) {
        List<String> labels = new ArrayList<>();
        if (labelFile.isEmpty()) {
            return labels;
        }
        Path file = labelFile.get();
        List<String> lines;
        try {
            long size = Files.size(file);
            if (size > MAX_LABEL_FILE_BYTES) {
                throw new IllegalArgumentException(file + ": label file (class_id_map_file) of " + size
                        + " bytes is larger than " + MAX_LABEL_FILE_BYTES);
            }
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": unreadable label file (class_id_map_file): " + e.getMessage(), e);
        }
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty()) {
                continue;
            }
            int space = line.indexOf(' ');
            String id = space < 0 ? line : line.substring(0, space);
            String label = space < 0 ? "" : line.substring(space + 1).strip();
            int classId;
            try {
                classId = Integer.parseInt(id);
            } catch (NumberFormatException e) {
                throw labelError(file, n, "expected '<class id> <label>', got '" + shorten(line) + "'");
            }
            if (classId < 0 || classId >= MAX_CLASSES) {
                throw labelError(file, n, "class id " + classId + " is not in [0, " + MAX_CLASSES + ")");
            }
            if (label.length() > MAX_LABEL_CHARS) {
                throw labelError(file, n, "label of " + label.length() + " characters, more than " + MAX_LABEL_CHARS);
            }
            while (labels.size() <= classId) {
                labels.add(null);
            }
            if (labels.get(classId) != null) {
                throw labelError(file, n, "class id " + classId + " appears twice");
            }
            labels.set(classId, label);
        }
        return labels;
    }

    private static IllegalArgumentException labelError(Path file, int lineIndex, String what) {
        return new IllegalArgumentException(file + ":" + (lineIndex + 1) + ": bad label file (class_id_map_file): " + what);
    }

    private static String shorten(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
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
